// The OCSP codec, judged by OpenSSL: requests are built with OpenSSL's OCSP_* API, and every
// response we sign is parsed and verified by OCSP_basic_verify / OCSP_resp_find_status.
#include "x509/ocsp.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "testlib/csr_factory.h"
#include "x509/openssl_util.h"
#include "x509/validation_data.h"

namespace kyso::x509 {
namespace {

constexpr UnixSeconds kNow = 1795230245;  // 2026-11-21T03:04:05Z

template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, x509::internal::Deleter<T, Free>>;
using RequestPtr = Ptr<OCSP_REQUEST, OCSP_REQUEST_free>;
using ResponsePtr = Ptr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using BasicPtr = Ptr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using CertIdPtr = Ptr<OCSP_CERTID, OCSP_CERTID_free>;
using StorePtr = Ptr<X509_STORE, X509_STORE_free>;

void FreeCertStack(STACK_OF(X509) * s) {
  sk_X509_free(s);
}
using CertStackPtr = Ptr<STACK_OF(X509), FreeCertStack>;

Bytes Der(OCSP_REQUEST* req) {
  unsigned char* buf = nullptr;
  int len = i2d_OCSP_REQUEST(req, &buf);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Bytes Der(OCSP_CERTID* id) {
  unsigned char* buf = nullptr;
  int len = i2d_OCSP_CERTID(id, &buf);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string OpensslErrors() {
  std::string out;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += buf;
    out += "; ";
  }
  return out;
}

UnixSeconds ToUnix(const ASN1_GENERALIZEDTIME* t) {
  std::tm tm{};
  if (t == nullptr || !ASN1_TIME_to_tm(t, &tm)) return -1;
  return timegm(&tm);
}

// A root, an issuing CA, a delegated OCSP responder and an end-entity certificate.
struct Pki {
  explicit Pki(const std::string& responder_key = "ec:P-256",
               crypto::RsaPadding padding = crypto::RsaPadding::kPkcs1v15) {
    const auto& root_key = testlib::CachedKey("ec:P-384");
    const auto& issuing_key = testlib::CachedKey("ec:P-256");
    crypto::SoftwareSigner root_signer(root_key, "root");
    crypto::SoftwareSigner issuing_signer(issuing_key, "issuing");
    CertificateTemplate t{{0x01},
                          *Name::ParseSlashed("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root"),
                          root_key.public_key(),
                          kNow - 1000,
                          kNow + 400 * kSecondsPerDay,
                          {}};
    t.extensions.is_ca = true;
    t.extensions.key_usage = {"keyCertSign", "cRLSign"};
    root = std::make_unique<Certificate>(*BuildCertificate(
        t, nullptr, root_signer, crypto::SignatureScheme::DefaultFor(root_key.spec())));
    t.serial = {0x02};
    t.subject = *Name::ParseSlashed("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Issuing");
    t.subject_key = issuing_key.public_key();
    t.extensions.path_length = 0;
    issuing = std::make_unique<Certificate>(*BuildCertificate(
        t, root.get(), root_signer, crypto::SignatureScheme::DefaultFor(root_key.spec())));

    const auto& key = testlib::CachedKey(responder_key);
    CertificateTemplate r{{0x03},
                          *Name::ParseSlashed("/C=VN/O=Ban Cơ yếu Chính phủ/CN=OCSP"),
                          key.public_key(),
                          kNow - 1000,
                          kNow + 300 * kSecondsPerDay,
                          {}};
    r.extensions.key_usage = {"digitalSignature"};
    r.extensions.extended_key_usage = {"OCSPSigning"};
    r.extensions.ocsp_no_check = true;
    responder = std::make_unique<Certificate>(
        *BuildCertificate(r, issuing.get(), issuing_signer, crypto::SignatureScheme{}));
    // Certificates fresh from BuildCertificate carry no decoded key in their X509; OpenSSL's
    // verifier needs one, so it gets parsed copies, as a relying party would.
    root = std::make_unique<Certificate>(*Certificate::FromDer(root->der()));
    issuing = std::make_unique<Certificate>(*Certificate::FromDer(issuing->der()));
    responder = std::make_unique<Certificate>(*Certificate::FromDer(responder->der()));
    signer = std::make_shared<crypto::SoftwareSigner>(key, "ocsp");
    scheme = crypto::SignatureScheme::DefaultFor(key.spec(), padding);
  }

  // OpenSSL's CertID for `serial` under the issuing CA.
  CertIdPtr OpensslCertId(const EVP_MD* md, long serial) const {
    Ptr<ASN1_INTEGER, ASN1_INTEGER_free> s(ASN1_INTEGER_new());
    ASN1_INTEGER_set(s.get(), serial);
    return CertIdPtr(OCSP_cert_id_new(md, X509_get_subject_name(issuing->openssl()),
                                      X509_get0_pubkey_bitstr(issuing->openssl()), s.get()));
  }

  std::unique_ptr<Certificate> root, issuing, responder;
  std::shared_ptr<crypto::SoftwareSigner> signer;
  crypto::SignatureScheme scheme;
};

const Pki& SharedPki() {
  static const Pki* pki = new Pki();
  return *pki;
}

// --- issuer hashes and CertIDs ----------------------------------------------------------------

TEST(OcspCodec, IssuerHashesMatchOpensslForEveryAlgorithm) {
  const Pki& pki = SharedPki();
  struct Case {
    OcspHash hash;
    const EVP_MD* md;
  };
  for (const Case& c :
       {Case{OcspHash::kSha1, EVP_sha1()}, Case{OcspHash::kSha256, EVP_sha256()},
        Case{OcspHash::kSha384, EVP_sha384()}, Case{OcspHash::kSha512, EVP_sha512()}}) {
    SCOPED_TRACE(std::string(OcspHashName(c.hash)));
    CertIdPtr id = pki.OpensslCertId(c.md, 0x1234);
    ASN1_OCTET_STRING *name_hash = nullptr, *key_hash = nullptr;
    ASSERT_EQ(OCSP_id_get0_info(&name_hash, nullptr, &key_hash, nullptr, id.get()), 1);
    OcspIssuerHashes ours = ComputeIssuerHashes(*pki.issuing, c.hash);
    EXPECT_EQ(ours.name_hash, Bytes(name_hash->data, name_hash->data + name_hash->length));
    EXPECT_EQ(ours.key_hash, Bytes(key_hash->data, key_hash->data + key_hash->length));
    EXPECT_EQ(ours.name_hash.size(), OcspHashSize(c.hash));
    // The CertID we encode is OpenSSL's, octet for octet (NULL parameters included).
    EXPECT_EQ(EncodeCertId(ours, Bytes{0x12, 0x34}), Der(id.get()));
  }
}

TEST(OcspCodec, CertIdSerialGetsASignOctetWhenItsTopBitIsSet) {
  const Pki& pki = SharedPki();
  CertIdPtr id = pki.OpensslCertId(EVP_sha1(), 0x80FF);
  EXPECT_EQ(EncodeCertId(ComputeIssuerHashes(*pki.issuing, OcspHash::kSha1), Bytes{0x80, 0xFF}),
            Der(id.get()));
}

TEST(OcspCodec, CanonicalRequestIsWhatOpensslSends) {
  const Pki& pki = SharedPki();
  // `openssl ocsp -issuer CA -serial N -no_nonce`: one SHA-1 CertID, no extensions.
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), 0x0A0B).release());
  Bytes cert_id =
      EncodeCertId(ComputeIssuerHashes(*pki.issuing, OcspHash::kSha1), Bytes{0x0A, 0x0B});
  EXPECT_EQ(EncodeOcspRequest(std::span<const Bytes>(&cert_id, 1), std::nullopt), Der(req.get()));

  // With a nonce, as OCSP_request_add1_nonce encodes it (an OCTET STRING inside extnValue).
  const Bytes nonce(32, 0x5A);
  ASSERT_EQ(OCSP_request_add1_nonce(req.get(), const_cast<unsigned char*>(nonce.data()), 32), 1);
  EXPECT_EQ(EncodeOcspRequest(std::span<const Bytes>(&cert_id, 1), ByteSpan(nonce)),
            Der(req.get()));
}

// --- parsing requests -------------------------------------------------------------------------

TEST(OcspRequestParse, ReadsCertIdsAndNonceOfAnOpensslRequest) {
  const Pki& pki = SharedPki();
  RequestPtr req(OCSP_REQUEST_new());
  const EVP_MD* mds[] = {EVP_sha1(), EVP_sha256(), EVP_sha512()};
  const long serials[] = {0x01, 0x7FFFFFFF, 0x1234567};
  std::vector<Bytes> expected_der;
  for (int i = 0; i < 3; ++i) {
    CertIdPtr id = pki.OpensslCertId(mds[i], serials[i]);
    expected_der.push_back(Der(id.get()));
    OCSP_request_add0_id(req.get(), id.release());
  }
  ASSERT_EQ(OCSP_request_add1_nonce(req.get(), nullptr, 32), 1);  // random, 32 octets
  auto parsed = OcspRequest::Parse(Der(req.get()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->ids.size(), 3u);
  EXPECT_EQ(parsed->ids[0].hash, OcspHash::kSha1);
  EXPECT_EQ(parsed->ids[1].hash, OcspHash::kSha256);
  EXPECT_EQ(parsed->ids[2].hash, OcspHash::kSha512);
  EXPECT_EQ(parsed->ids[0].serial_hex, "01");
  EXPECT_EQ(parsed->ids[1].serial_hex, "7FFFFFFF");
  EXPECT_EQ(parsed->ids[2].serial_hex, "01234567");
  for (int i = 0; i < 3; ++i) {
    const OcspIssuerHashes h = ComputeIssuerHashes(*pki.issuing, parsed->ids[i].hash);
    EXPECT_EQ(parsed->ids[i].issuer_name_hash, h.name_hash);
    EXPECT_EQ(parsed->ids[i].issuer_key_hash, h.key_hash);
    EXPECT_EQ(parsed->ids[i].der, expected_der[i]);
  }
  ASSERT_TRUE(parsed->nonce.has_value());
  EXPECT_EQ(parsed->nonce->size(), 32u);
  // The nonce is the OCTET STRING inside extnValue.
  X509_EXTENSION* ext = OCSP_REQUEST_get_ext(
      req.get(), OCSP_REQUEST_get_ext_by_NID(req.get(), NID_id_pkix_OCSP_Nonce, -1));
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  ASSERT_EQ(value->length, 34);
  EXPECT_EQ(*parsed->nonce, Bytes(value->data + 2, value->data + 34));
}

TEST(OcspRequestParse, SerialMatchesCertificateConvention) {
  const Pki& pki = SharedPki();
  // The responder certificate's own serial, as Certificate::serial_hex spells it.
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(
      req.get(), OCSP_cert_to_id(EVP_sha1(), pki.responder->openssl(), pki.issuing->openssl()));
  auto parsed = OcspRequest::Parse(Der(req.get()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ids[0].serial_hex, pki.responder->serial_hex());
}

TEST(OcspRequestParse, AcceptsSignedRequestsAndIgnoresTheSignature) {
  const Pki& pki = SharedPki();
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), 7).release());
  ASSERT_EQ(OCSP_request_sign(req.get(), pki.responder->openssl(), pki.signer->openssl_key(),
                              EVP_sha256(), nullptr, 0),
            1);
  auto parsed = OcspRequest::Parse(Der(req.get()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->ids[0].serial_hex, "07");
  EXPECT_FALSE(parsed->nonce.has_value());
  // The requestorName [1] that signing added is stepped over to find the CertID's octets.
  EXPECT_EQ(parsed->ids[0].der, Der(pki.OpensslCertId(EVP_sha1(), 7).get()));
}

TEST(OcspRequestParse, NegativeSerialKeepsItsSign) {
  const Pki& pki = SharedPki();
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), -5).release());
  auto parsed = OcspRequest::Parse(Der(req.get()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ids[0].serial_hex, "-05");
}

TEST(OcspRequestParse, IgnoresNonCriticalUnknownExtensions) {
  const Pki& pki = SharedPki();
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_ONEREQ* one = OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), 7).release());
  // id-pkix-ocsp-service-locator style: any unknown OID, not critical, on both levels.
  Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> value(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>("\x05\x00"), 2);
  Ptr<ASN1_OBJECT, ASN1_OBJECT_free> oid(OBJ_txt2obj("1.2.3.4.5", 1));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, value.get());
  ASSERT_EQ(OCSP_REQUEST_add_ext(req.get(), ext, -1), 1);
  ASSERT_EQ(OCSP_ONEREQ_add_ext(one, ext, -1), 1);
  X509_EXTENSION_free(ext);
  auto parsed = OcspRequest::Parse(Der(req.get()));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
}

// Requests the `openssl ocsp` command wrote (fuzz/corpus/ocsp_request_fuzz/make_corpus.sh).
Bytes CorpusFile(const std::string& name) {
  // ctest sets KYSO_SOURCE_DIR; run by hand, the source tree is found from this file.
  const char* root = std::getenv("KYSO_SOURCE_DIR");
  const std::string source =
      root != nullptr ? root
                      : std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  const std::string path = source + "/fuzz/corpus/ocsp_request_fuzz/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(OcspRequestParse, ReadsWhatTheOpensslCommandSends) {
  auto plain = OcspRequest::Parse(CorpusFile("sha1_no_nonce.der"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_EQ(plain->ids.size(), 1u);
  EXPECT_EQ(plain->ids[0].hash, OcspHash::kSha1);
  EXPECT_EQ(plain->ids[0].serial_hex, "0A1B2C3D");
  EXPECT_FALSE(plain->nonce.has_value());
  // Our canonical encoding of that request is the command's, octet for octet.
  EXPECT_EQ(EncodeOcspRequest(std::span<const Bytes>(&plain->ids[0].der, 1), std::nullopt),
            CorpusFile("sha1_no_nonce.der"));

  auto nonce = OcspRequest::Parse(CorpusFile("sha1_nonce.der"));
  ASSERT_TRUE(nonce.ok());
  ASSERT_TRUE(nonce->nonce.has_value());
  EXPECT_EQ(nonce->nonce->size(), 16u);  // the command's default nonce length

  auto three = OcspRequest::Parse(CorpusFile("three_serials_nonce.der"));
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->ids.size(), 3u);
  EXPECT_EQ(three->ids[0].serial_hex, "01");
  EXPECT_EQ(three->ids[2].serial_hex, "80");

  auto long_serial = OcspRequest::Parse(CorpusFile("sha1_20_octet_serial.der"));
  ASSERT_TRUE(long_serial.ok());
  EXPECT_EQ(long_serial->ids[0].serial_hex, "7F00112233445566778899AABBCCDDEEFF001122");

  auto sha256 = OcspRequest::Parse(CorpusFile("sha256_no_nonce.der"));
  ASSERT_TRUE(sha256.ok());
  EXPECT_EQ(sha256->ids[0].hash, OcspHash::kSha256);
  auto sha512 = OcspRequest::Parse(CorpusFile("sha512_nonce.der"));
  ASSERT_TRUE(sha512.ok());
  EXPECT_EQ(sha512->ids[0].hash, OcspHash::kSha512);

  EXPECT_TRUE(OcspRequest::Parse(CorpusFile("signed.der")).ok());
  EXPECT_EQ(OcspRequest::Parse(CorpusFile("truncated.der")).status().id(),
            "ocsp.malformed_request");
  EXPECT_EQ(OcspRequest::Parse(CorpusFile("garbage")).status().id(), "ocsp.malformed_request");
}

std::string ParseError(ByteSpan der) {
  auto parsed = OcspRequest::Parse(der);
  return parsed.ok() ? "ok" : parsed.status().id();
}

TEST(OcspRequestParse, RejectsWhatIsNotARequest) {
  const Pki& pki = SharedPki();
  EXPECT_EQ(ParseError(AsBytes("GET /ocsp HTTP/1.1")), "ocsp.malformed_request");
  EXPECT_EQ(ParseError({}), "ocsp.malformed_request");
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), 7).release());
  Bytes der = Der(req.get());
  Bytes truncated(der.begin(), der.end() - 1);
  EXPECT_EQ(ParseError(truncated), "ocsp.malformed_request");
  Bytes trailing = der;
  trailing.push_back(0x00);
  EXPECT_EQ(ParseError(trailing), "ocsp.malformed_request");
  // A certificate is DER too, but not a request.
  EXPECT_EQ(ParseError(pki.issuing->der()), "ocsp.malformed_request");
  // An empty requestList: SEQUENCE { SEQUENCE { SEQUENCE {} } }.
  EXPECT_EQ(ParseError(Bytes{0x30, 0x04, 0x30, 0x02, 0x30, 0x00}), "ocsp.malformed_request");
}

TEST(OcspRequestParse, RejectsOversizedInputBeforeParsing) {
  Bytes big(OcspRequest::kMaxSize + 1, 0x30);
  EXPECT_EQ(ParseError(big), "ocsp.request_too_large");
}

TEST(OcspRequestParse, LimitsTheNumberOfCertIds) {
  const Pki& pki = SharedPki();
  RequestPtr req(OCSP_REQUEST_new());
  for (size_t i = 0; i < OcspRequest::kMaxCertIds; ++i) {
    OCSP_request_add0_id(req.get(),
                         pki.OpensslCertId(EVP_sha1(), static_cast<long>(i + 1)).release());
  }
  EXPECT_EQ(ParseError(Der(req.get())), "ok");
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), 99).release());
  EXPECT_EQ(ParseError(Der(req.get())), "ocsp.too_many_cert_ids");
}

TEST(OcspRequestParse, NonceMustBeOneToThirtyTwoOctets) {
  const Pki& pki = SharedPki();
  Bytes cert_id = EncodeCertId(ComputeIssuerHashes(*pki.issuing, OcspHash::kSha1), Bytes{0x07});
  std::span<const Bytes> ids(&cert_id, 1);
  EXPECT_EQ(ParseError(EncodeOcspRequest(ids, Bytes(1, 0x01))), "ok");
  EXPECT_EQ(ParseError(EncodeOcspRequest(ids, Bytes(32, 0x01))), "ok");
  EXPECT_EQ(ParseError(EncodeOcspRequest(ids, Bytes(33, 0x01))), "ocsp.bad_nonce");
  EXPECT_EQ(ParseError(EncodeOcspRequest(ids, Bytes())), "ocsp.bad_nonce");

  // A raw nonce (extnValue not wrapped in an OCTET STRING), as some old clients send.
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), 7).release());
  Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> raw(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(raw.get(), reinterpret_cast<const unsigned char*>("\x01\x02\x03\x04"), 4);
  X509_EXTENSION* ext = X509_EXTENSION_create_by_NID(nullptr, NID_id_pkix_OCSP_Nonce, 0, raw.get());
  ASSERT_EQ(OCSP_REQUEST_add_ext(req.get(), ext, -1), 1);
  EXPECT_EQ(ParseError(Der(req.get())), "ocsp.bad_nonce");
  X509_EXTENSION_free(ext);
  // Two nonces, each well formed.
  RequestPtr twice(OCSP_REQUEST_new());
  OCSP_request_add0_id(twice.get(), pki.OpensslCertId(EVP_sha1(), 7).release());
  Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> wrapped(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(wrapped.get(), reinterpret_cast<const unsigned char*>("\x04\x02\x01\x02"),
                        4);
  X509_EXTENSION* nonce =
      X509_EXTENSION_create_by_NID(nullptr, NID_id_pkix_OCSP_Nonce, 0, wrapped.get());
  ASSERT_EQ(OCSP_REQUEST_add_ext(twice.get(), nonce, -1), 1);
  EXPECT_EQ(ParseError(Der(twice.get())), "ok");
  ASSERT_EQ(OCSP_REQUEST_add_ext(twice.get(), nonce, -1), 1);
  EXPECT_EQ(ParseError(Der(twice.get())), "ocsp.bad_nonce");
  X509_EXTENSION_free(nonce);
}

TEST(OcspRequestParse, RejectsUnknownCriticalExtensions) {
  const Pki& pki = SharedPki();
  Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> value(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>("\x05\x00"), 2);
  Ptr<ASN1_OBJECT, ASN1_OBJECT_free> oid(OBJ_txt2obj("1.2.3.4.5", 1));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 1, value.get());

  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_sha1(), 7).release());
  ASSERT_EQ(OCSP_REQUEST_add_ext(req.get(), ext, -1), 1);
  EXPECT_EQ(ParseError(Der(req.get())), "ocsp.unsupported_extension");

  RequestPtr single(OCSP_REQUEST_new());
  OCSP_ONEREQ* one = OCSP_request_add0_id(single.get(), pki.OpensslCertId(EVP_sha1(), 7).release());
  ASSERT_EQ(OCSP_ONEREQ_add_ext(one, ext, -1), 1);
  EXPECT_EQ(ParseError(Der(single.get())), "ocsp.unsupported_extension");
  X509_EXTENSION_free(ext);
}

TEST(OcspRequestParse, UnsupportedHashAndWrongHashLength) {
  const Pki& pki = SharedPki();
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), pki.OpensslCertId(EVP_md5(), 7).release());
  EXPECT_EQ(ParseError(Der(req.get())), "ocsp.unsupported_hash");

  OcspIssuerHashes h = ComputeIssuerHashes(*pki.issuing, OcspHash::kSha256);
  h.key_hash.resize(20);  // a SHA-1-sized hash labelled SHA-256
  Bytes cert_id = EncodeCertId(h, Bytes{0x07});
  EXPECT_EQ(ParseError(EncodeOcspRequest(std::span<const Bytes>(&cert_id, 1), std::nullopt)),
            "ocsp.malformed_request");
}

// --- responses --------------------------------------------------------------------------------

struct Verified {
  int response_status = -1;
  BasicPtr basic;
};

Verified ParseAndVerify(const Pki& pki, ByteSpan der) {
  Verified v;
  const unsigned char* p = der.data();
  ResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_NE(resp, nullptr);
  if (resp == nullptr) return v;
  EXPECT_EQ(p, der.data() + der.size());
  v.response_status = OCSP_response_status(resp.get());
  if (v.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return v;
  v.basic.reset(OCSP_response_get1_basic(resp.get()));
  EXPECT_NE(v.basic, nullptr);
  // OpenSSL checks the signature, that the signer certificate (taken from the response) chains
  // to the trusted root through the issuing CA, and that a delegated signer carries
  // id-kp-OCSPSigning and was issued by the CA of the certificates in question.
  StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), pki.root->openssl());
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), kNow);  // not the wall clock
  CertStackPtr untrusted(sk_X509_new_null());
  sk_X509_push(untrusted.get(), pki.issuing->openssl());
  EXPECT_EQ(OCSP_basic_verify(v.basic.get(), untrusted.get(), store.get(), 0), 1)
      << "OCSP_basic_verify failed: " << OpensslErrors();
  return v;
}

TEST(OcspResponseSign, OpensslVerifiesEveryKeyTypeAndStatus) {
  struct Case {
    const char* key;
    crypto::RsaPadding padding;
  };
  for (const Case& c :
       {Case{"ec:P-256", {}}, Case{"ec:P-384", {}}, Case{"rsa:2048", crypto::RsaPadding::kPkcs1v15},
        Case{"rsa:2048", crypto::RsaPadding::kPss}, Case{"ed25519", {}}}) {
    SCOPED_TRACE(std::string(c.key) + (c.padding == crypto::RsaPadding::kPss ? " PSS" : ""));
    Pki pki(c.key, c.padding);
    auto signer = OcspResponseSigner::Create(*pki.responder, pki.signer, pki.scheme);
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();

    RequestPtr req(OCSP_REQUEST_new());
    std::vector<CertIdPtr> ids;
    for (long serial : {11, 12, 13}) {
      ids.push_back(pki.OpensslCertId(serial == 12 ? EVP_sha256() : EVP_sha1(), serial));
      OCSP_request_add0_id(req.get(), OCSP_CERTID_dup(ids.back().get()));
    }
    ASSERT_EQ(OCSP_request_add1_nonce(req.get(), nullptr, 32), 1);
    auto parsed = OcspRequest::Parse(Der(req.get()));
    ASSERT_TRUE(parsed.ok());

    std::vector<OcspSingleResponse> singles(3);
    for (size_t i = 0; i < 3; ++i) {
      singles[i].cert_id = parsed->ids[i].der;
      singles[i].this_update = kNow;
      singles[i].next_update = kNow + 4 * 3600;
    }
    singles[0].status = OcspCertStatus::kGood;
    singles[1].status = OcspCertStatus::kRevoked;
    singles[1].revocation_time = kNow - 600;
    singles[1].revocation_reason = 1;  // keyCompromise
    singles[1].invalidity_date = kNow - 86400;
    singles[2].status = OcspCertStatus::kUnknown;
    auto body = (*signer)->Sign(singles, kNow + 1, ByteSpan(*parsed->nonce));
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    EXPECT_EQ(Bytes(body->cert_id().begin(), body->cert_id().end()), parsed->ids[0].der);

    Bytes der;
    AssembleOcspResponse(body->body, (*signer)->certs_field(), der);
    EXPECT_EQ(der.size(),
              AssembledOcspResponseSize(body->body.size(), (*signer)->certs_field().size()));
    Verified v = ParseAndVerify(pki, der);
    ASSERT_EQ(v.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
    ASSERT_NE(v.basic, nullptr);
    EXPECT_EQ(OCSP_check_nonce(req.get(), v.basic.get()), 1);

    // RFC 6960 §4.2.2.3 byKey: SHA-1 of the responder's subjectPublicKey.
    const ASN1_OCTET_STRING* key_id = nullptr;
    const X509_NAME* by_name = nullptr;
    ASSERT_EQ(OCSP_resp_get0_id(v.basic.get(), &key_id, &by_name), 1);
    ASSERT_NE(key_id, nullptr);
    EXPECT_EQ(Bytes(key_id->data, key_id->data + key_id->length),
              pki.responder->public_key().KeyIdentifier());
    EXPECT_EQ(ToUnix(OCSP_resp_get0_produced_at(v.basic.get())), kNow + 1);

    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
    ASSERT_EQ(OCSP_resp_find_status(v.basic.get(), ids[0].get(), &status, &reason, &revoked_at,
                                    &this_update, &next_update),
              1);
    EXPECT_EQ(status, V_OCSP_CERTSTATUS_GOOD);
    EXPECT_EQ(ToUnix(this_update), kNow);
    EXPECT_EQ(ToUnix(next_update), kNow + 4 * 3600);
    ASSERT_EQ(OCSP_resp_find_status(v.basic.get(), ids[1].get(), &status, &reason, &revoked_at,
                                    &this_update, &next_update),
              1);
    EXPECT_EQ(status, V_OCSP_CERTSTATUS_REVOKED);
    EXPECT_EQ(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    EXPECT_EQ(ToUnix(revoked_at), kNow - 600);
    OCSP_SINGLERESP* single = OCSP_resp_get0(v.basic.get(), 1);
    auto* invalidity = static_cast<ASN1_GENERALIZEDTIME*>(
        OCSP_SINGLERESP_get1_ext_d2i(single, NID_invalidity_date, nullptr, nullptr));
    ASSERT_NE(invalidity, nullptr);
    EXPECT_EQ(ToUnix(invalidity), kNow - 86400);
    ASN1_GENERALIZEDTIME_free(invalidity);
    ASSERT_EQ(OCSP_resp_find_status(v.basic.get(), ids[2].get(), &status, &reason, &revoked_at,
                                    &this_update, &next_update),
              1);
    EXPECT_EQ(status, V_OCSP_CERTSTATUS_UNKNOWN);
  }
}

TEST(OcspResponseSign, UnspecifiedReasonIsOmittedAndNoNonceMeansNoExtension) {
  const Pki& pki = SharedPki();
  auto signer = OcspResponseSigner::Create(*pki.responder, pki.signer, pki.scheme);
  ASSERT_TRUE(signer.ok());
  CertIdPtr id = pki.OpensslCertId(EVP_sha1(), 42);
  Bytes cert_id = Der(id.get());
  OcspSingleResponse single;
  single.cert_id = cert_id;
  single.status = OcspCertStatus::kRevoked;
  single.revocation_time = kNow - 10;
  single.revocation_reason = 0;
  single.this_update = kNow;
  single.next_update = kNow + 3600;
  auto body = (*signer)->Sign(std::span<const OcspSingleResponse>(&single, 1), kNow, std::nullopt);
  ASSERT_TRUE(body.ok());
  Bytes der;
  AssembleOcspResponse(body->body, (*signer)->certs_field(), der);
  Verified v = ParseAndVerify(pki, der);
  ASSERT_NE(v.basic, nullptr);
  int status = -1, reason = 99;
  ASSERT_EQ(
      OCSP_resp_find_status(v.basic.get(), id.get(), &status, &reason, nullptr, nullptr, nullptr),
      1);
  EXPECT_EQ(status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(reason, OCSP_REVOKED_STATUS_NOSTATUS);
  EXPECT_EQ(OCSP_BASICRESP_get_ext_count(v.basic.get()), 0);
  RequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_CERTID_dup(id.get()));
  EXPECT_EQ(OCSP_check_nonce(req.get(), v.basic.get()), 2);  // "nonce absent in both"
}

TEST(OcspResponseSign, TimesAreGeneralizedTimeBeyond2049) {
  const Pki& pki = SharedPki();
  auto signer = OcspResponseSigner::Create(*pki.responder, pki.signer, pki.scheme);
  ASSERT_TRUE(signer.ok());
  CertIdPtr id = pki.OpensslCertId(EVP_sha1(), 42);
  Bytes cert_id = Der(id.get());
  OcspSingleResponse single;
  single.cert_id = cert_id;
  single.this_update = 951782400;        // 2000-02-29T00:00:00Z
  single.next_update = 2592000000 + 59;  // 2052-02-20T00:00:59Z
  auto body = (*signer)->Sign(std::span<const OcspSingleResponse>(&single, 1), 951782400, {});
  ASSERT_TRUE(body.ok());
  Bytes der;
  AssembleOcspResponse(body->body, (*signer)->certs_field(), der);
  const unsigned char* p = der.data();
  ResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  BasicPtr basic(OCSP_response_get1_basic(resp.get()));
  ASN1_GENERALIZEDTIME *this_update = nullptr, *next_update = nullptr;
  ASSERT_EQ(OCSP_resp_find_status(basic.get(), id.get(), nullptr, nullptr, nullptr, &this_update,
                                  &next_update),
            1);
  EXPECT_EQ(ASN1_STRING_type(this_update), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(this_update))),
            "20000229000000Z");
  EXPECT_EQ(ToUnix(next_update), 2592000000 + 59);
}

TEST(OcspResponseSign, RefusesAKeyThatIsNotTheResponders) {
  const Pki& pki = SharedPki();
  auto other = std::make_shared<crypto::SoftwareSigner>(testlib::CachedKey("ec:P-384"), "x");
  auto signer = OcspResponseSigner::Create(*pki.responder, other, pki.scheme);
  EXPECT_EQ(signer.status().id(), "ocsp.key_mismatch");
  EXPECT_EQ(OcspResponseSigner::Create(*pki.responder, nullptr, pki.scheme).status().id(),
            "ocsp.key_mismatch");
}

TEST(OcspResponseSign, EmptyResponseListIsRefused) {
  const Pki& pki = SharedPki();
  auto signer = OcspResponseSigner::Create(*pki.responder, pki.signer, pki.scheme);
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ((*signer)->Sign({}, kNow, {}).status().id(), "ocsp.no_responses");
}

TEST(OcspResponse, ErrorResponsesParseWithTheirStatus) {
  for (auto status : {OcspResponseStatus::kMalformedRequest, OcspResponseStatus::kInternalError,
                      OcspResponseStatus::kTryLater, OcspResponseStatus::kSigRequired,
                      OcspResponseStatus::kUnauthorized}) {
    Bytes der = EncodeOcspErrorResponse(status);
    const unsigned char* p = der.data();
    ResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    ASSERT_NE(resp, nullptr);
    EXPECT_EQ(OCSP_response_status(resp.get()), static_cast<int>(status));
    EXPECT_EQ(OCSP_response_get1_basic(resp.get()), nullptr);
  }
}

TEST(OcspResponse, SplitFindsTheBodyCertsAndCertId) {
  const Pki& pki = SharedPki();
  auto signer = OcspResponseSigner::Create(*pki.responder, pki.signer, pki.scheme);
  ASSERT_TRUE(signer.ok());
  Bytes cert_id = EncodeCertId(ComputeIssuerHashes(*pki.issuing, OcspHash::kSha1), Bytes(20, 0x42));
  OcspSingleResponse single;
  single.cert_id = cert_id;
  single.this_update = kNow;
  single.next_update = kNow + 3600;
  auto body = (*signer)->Sign(std::span<const OcspSingleResponse>(&single, 1), kNow, {});
  ASSERT_TRUE(body.ok());
  Bytes der;
  AssembleOcspResponse(body->body, (*signer)->certs_field(), der);
  auto parts = SplitOcspResponse(der);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(
      Bytes(der.begin() + parts->body_offset, der.begin() + parts->body_offset + parts->body_size),
      body->body);
  EXPECT_EQ(Bytes(der.begin() + parts->certs_offset,
                  der.begin() + parts->certs_offset + parts->certs_size),
            (*signer)->certs_field());
  EXPECT_EQ(parts->cert_id_offset, body->cert_id_offset);
  EXPECT_EQ(parts->cert_id_size, cert_id.size());
  EXPECT_EQ(parts->response_count, 1u);

  // Without certs.
  Bytes bare;
  AssembleOcspResponse(body->body, {}, bare);
  auto bare_parts = SplitOcspResponse(bare);
  ASSERT_TRUE(bare_parts.ok());
  EXPECT_EQ(bare_parts->certs_size, 0u);

  EXPECT_EQ(SplitOcspResponse(EncodeOcspErrorResponse(OcspResponseStatus::kTryLater)).status().id(),
            "ocsp.malformed_response");
  EXPECT_EQ(SplitOcspResponse(AsBytes("garbage")).status().id(), "ocsp.malformed_response");
  Bytes truncated(der.begin(), der.end() - 1);
  EXPECT_EQ(SplitOcspResponse(truncated).status().id(), "ocsp.malformed_response");
  for (size_t cut = 0; cut < der.size(); cut += 7) {  // never reads out of bounds
    (void)SplitOcspResponse(ByteSpan(der).subspan(0, cut));
  }
}

}  // namespace
}  // namespace kyso::x509

namespace kyso::x509 {
namespace {

// A response about a leaf of the issuing CA, signed by `signer` with `certs_field` attached.
Bytes ResponseAbout(const Certificate& leaf, const Certificate& issuer,
                    const OcspResponseSigner& signer) {
  Bytes request = EncodeOcspRequestFor(leaf, issuer);
  auto parsed = OcspRequest::Parse(request);
  EXPECT_TRUE(parsed.ok());
  OcspSingleResponse single;
  single.cert_id = parsed->ids[0].der;
  single.status = OcspCertStatus::kGood;
  single.this_update = kNow;
  single.next_update = kNow + 3600;
  auto body = signer.Sign(std::span<const OcspSingleResponse>(&single, 1), kNow, std::nullopt);
  EXPECT_TRUE(body.ok());
  Bytes der;
  AssembleOcspResponse(body->body, signer.certs_field(), der);
  return der;
}

TEST(InspectOcspResponse, AcceptsTheIssuersDelegateOnlyAndNamesIt) {
  Pki pki("ec:P-384");  // a responder key that is not the issuing CA's
  crypto::SoftwareSigner issuing_signer(testlib::CachedKey("ec:P-256"), "issuing");
  const auto& leaf_key = testlib::CachedKey("ec:P-384");
  CertificateTemplate t{{0x2A},
                        *Name::ParseSlashed("/C=VN/O=Sở Y tế/CN=Nguyễn Văn An"),
                        leaf_key.public_key(),
                        kNow - 1000,
                        kNow + 100 * kSecondsPerDay,
                        {}};
  auto leaf = Certificate::FromDer(
      BuildCertificate(t, pki.issuing.get(), issuing_signer, crypto::SignatureScheme{})->der());
  ASSERT_TRUE(leaf.ok());

  auto delegate = OcspResponseSigner::Create(*pki.responder, pki.signer, pki.scheme);
  ASSERT_TRUE(delegate.ok());
  auto answer =
      InspectOcspResponse(ResponseAbout(*leaf, *pki.issuing, **delegate), *leaf, *pki.issuing);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->status, OcspCertStatus::kGood);
  ASSERT_TRUE(answer->responder.has_value());
  EXPECT_EQ(answer->responder->der(), pki.responder->der());

  // A self-signed "responder" carrying its own certificate in the response: refused, although
  // the signature over the response is sound.
  const auto& rogue_key = testlib::CachedKey("rsa:2048");
  CertificateTemplate r{{0x66},
                        *Name::ParseSlashed("/C=VN/O=Giả mạo/CN=OCSP"),
                        rogue_key.public_key(),
                        kNow - 1000,
                        kNow + 100 * kSecondsPerDay,
                        {}};
  r.extensions.extended_key_usage = {"OCSPSigning"};
  auto rogue_signer = std::make_shared<crypto::SoftwareSigner>(rogue_key, "rogue");
  auto rogue_cert = Certificate::FromDer(
      BuildCertificate(r, nullptr, *rogue_signer, crypto::SignatureScheme{})->der());
  ASSERT_TRUE(rogue_cert.ok());
  auto rogue = OcspResponseSigner::Create(*rogue_cert, rogue_signer, crypto::SignatureScheme{});
  ASSERT_TRUE(rogue.ok());
  EXPECT_EQ(InspectOcspResponse(ResponseAbout(*leaf, *pki.issuing, **rogue), *leaf, *pki.issuing)
                .status()
                .id(),
            "ocsp.bad_signature");
  EXPECT_EQ(InspectOcspResponse(Bytes{0x30, 0x00}, *leaf, *pki.issuing).status().id(),
            "ocsp.malformed_response");
}

}  // namespace
}  // namespace kyso::x509
