// Keys on SoftHSM2 tokens, judged by kyso's own verifier (the same one file keys are checked
// with), by OpenSSL's X509_verify, and by OpenSC's pkcs11-tool for what the token lets out.
#include "crypto/pkcs11.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/files.h"
#include "testlib/shell.h"
#include "testlib/softhsm.h"

namespace kyso::crypto {
namespace {

using testlib::SoftHsm;

Pkcs11Options WithPin(const std::string& pin) {
  Pkcs11Options options;
  options.pin.file = SoftHsm::Instance().PinFile(pin);
  options.pin.allow_prompt = false;
  return options;
}

// A token of its own for each test: PIN state and objects never leak between tests.
std::string NewToken(const std::string& label) {
  std::string serial = SoftHsm::Instance().CreateToken(label);
  EXPECT_FALSE(serial.empty()) << "softhsm2-util could not make token " << label;
  return serial;
}

std::shared_ptr<Pkcs11Token> OpenToken(const std::string& label, const std::string& pin = "1234") {
  auto token = Pkcs11Token::Open(*Pkcs11Uri::Parse(SoftHsm::Instance().Uri(label)), WithPin(pin));
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  return token.ok() ? *token : nullptr;
}

// Signs through the OpenSSL bridge the way the x509 builders do (EVP_DigestSign*).
Result<Bytes> SignThroughOpenSsl(const Signer& signer, const SignatureScheme& scheme,
                                 ByteSpan message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = scheme.digest == DigestAlgorithm::kSha256   ? EVP_sha256()
                     : scheme.digest == DigestAlgorithm::kSha384 ? EVP_sha384()
                                                                 : EVP_sha512();
  bool ok = EVP_DigestSignInit(ctx, &pctx, md, nullptr, signer.openssl_key()) > 0;
  if (ok && signer.key_spec().algorithm == KeyAlgorithm::kRsa &&
      scheme.padding == RsaPadding::kPss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
  }
  size_t len = 0;
  ok = ok && EVP_DigestSign(ctx, nullptr, &len, message.data(), message.size()) > 0;
  Bytes sig(len);
  ok = ok && EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) > 0;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Internal("test.sign_failed", "EVP_DigestSign through the token failed");
  sig.resize(len);
  return sig;
}

struct Case {
  const char* spec;
  RsaPadding padding;
  DigestAlgorithm digest;
};

class Pkcs11SignTest : public ::testing::TestWithParam<Case> {};

TEST_P(Pkcs11SignTest, KeyGeneratedOnTheTokenSignsAndVerifies) {
  const Case& c = GetParam();
  std::string label = std::string("sign-") + c.spec[0] + c.spec[3] + c.spec[4] +
                      (c.padding == RsaPadding::kPss ? "pss" : "") +
                      std::to_string(static_cast<int>(c.digest));
  NewToken(label);
  auto token = OpenToken(label);
  ASSERT_TRUE(token);
  KeySpec spec = *KeySpec::Parse(c.spec);
  auto signer = token->GenerateKey(spec, "signing");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ((*signer)->key_spec(), spec);
  // The key reference names the token and key, and never a PIN.
  EXPECT_EQ((*signer)->key_ref().rfind("pkcs11:token=" + label + ";serial=", 0), 0u)
      << (*signer)->key_ref();
  EXPECT_EQ((*signer)->key_ref().find("pin"), std::string::npos);

  SignatureScheme scheme{c.digest, c.padding};
  Bytes message =
      Bytes(AsBytes("Quyết định số 12/QĐ-UBND").begin(), AsBytes("Quyết định số 12/QĐ-UBND").end());
  auto sig = (*signer)->SignMessage(scheme, message);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(VerifyMessage((*signer)->public_key(), scheme, message, *sig).ok());
  Bytes other = message;
  other.back() ^= 1;
  EXPECT_EQ(VerifyMessage((*signer)->public_key(), scheme, other, *sig).id(), "signature.invalid");

  // The EVP_PKEY the x509 builders sign with routes to the token too.
  auto bridged = SignThroughOpenSsl(**signer, scheme, message);
  ASSERT_TRUE(bridged.ok()) << bridged.status().ToString();
  EXPECT_TRUE(VerifyMessage((*signer)->public_key(), scheme, message, *bridged).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Keys, Pkcs11SignTest,
    ::testing::Values(Case{"rsa:2048", RsaPadding::kPkcs1v15, DigestAlgorithm::kSha256},
                      Case{"rsa:2048", RsaPadding::kPss, DigestAlgorithm::kSha256},
                      Case{"rsa:3072", RsaPadding::kPkcs1v15, DigestAlgorithm::kSha384},
                      Case{"rsa:3072", RsaPadding::kPss, DigestAlgorithm::kSha512},
                      Case{"ec:P-256", RsaPadding::kPkcs1v15, DigestAlgorithm::kSha256},
                      Case{"ec:P-384", RsaPadding::kPkcs1v15, DigestAlgorithm::kSha384}));

TEST(Pkcs11, ImportedKeyHasTheFileKeysPublicKey) {
  // A key made by OpenSSL, imported with softhsm2-util: the public key kyso reads back from the
  // token (CKA_MODULUS/CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS/CKA_EC_POINT) is the file's.
  NewToken("imported");
  testlib::TempDir dir;
  for (const char* spec : {"rsa:2048", "ec:P-256"}) {
    auto key = *PrivateKey::Generate(*KeySpec::Parse(spec));
    auto pem = key.ToEncryptedPkcs8Pem("xxxxxxxx", 1000);
    // softhsm2-util wants unencrypted PKCS#8: write it with OpenSSL's own encoder.
    std::string file = dir.File(std::string(spec[0] == 'r' ? "rsa" : "ec") + ".pem");
    ASSERT_EQ(testlib::Shell("printf '%s' '" + *pem +
                             "' | openssl pkey -passin pass:xxxxxxxx -out " + file),
              0);
    std::string id = spec[0] == 'r' ? "a1" : "e1";
    ASSERT_TRUE(SoftHsm::Instance().ImportKey("imported", file, spec, id));
    auto signer = OpenPkcs11Signer(
        "pkcs11:token=imported;id=%" + id + "?module-path=" + SoftHsm::kModule, WithPin("1234"));
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    EXPECT_TRUE((*signer)->public_key().Equals(key.public_key())) << spec;
    SignatureScheme scheme = SignatureScheme::DefaultFor(key.spec());
    auto sig = (*signer)->SignMessage(scheme, AsBytes("x"));
    ASSERT_TRUE(sig.ok()) << sig.status().ToString();
    EXPECT_TRUE(VerifyMessage(key.public_key(), scheme, AsBytes("x"), *sig).ok());
  }
}

TEST(Pkcs11, PrivateKeyNeverLeavesTheToken) {
  NewToken("sealed");
  auto token = OpenToken("sealed");
  ASSERT_TRUE(token);
  auto signer = token->GenerateKey(*KeySpec::Parse("ec:P-256"), "seal", Bytes{0x5e});
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  auto objects = token->Objects();
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  int private_keys = 0;
  for (const auto& o : *objects) {
    if (o.type != "private") continue;
    ++private_keys;
    EXPECT_TRUE(o.sensitive);
    EXPECT_FALSE(o.extractable);
    EXPECT_EQ(o.key, "ec:P-256");
    EXPECT_EQ(o.id, Bytes{0x5e});
  }
  EXPECT_EQ(private_keys, 1);
  // OpenSC as the independent judge of the key's attributes.
  std::string out;
  ASSERT_EQ(SoftHsm::Instance().Pkcs11Tool("--token-label sealed --login --pin 1234 -O", &out), 0)
      << out;
  EXPECT_NE(out.find("Private Key Object; EC"), std::string::npos) << out;
  EXPECT_NE(out.find("Access:     sensitive, always sensitive, never extractable"),
            std::string::npos)
      << out;
  // The module itself, asked outside kyso's code, refuses the private value (PKCS#11 v2.40
  // §4.9: CKA_VALUE of a sensitive key is never revealed).
  EXPECT_EQ(SoftHsm::Instance().ReadSecretAttribute("sealed", "1234", "5e", CKA_VALUE),
            CKR_ATTRIBUTE_SENSITIVE);
  // The public key is readable, and is the one kyso uses.
  testlib::TempDir dir;
  ASSERT_EQ(
      SoftHsm::Instance().Pkcs11Tool(
          "--token-label sealed --read-object --type pubkey --id 5e -o " + dir.File("pub.der"),
          &out),
      0)
      << out;
  auto der = ReadFile(dir.File("pub.der"), 1 << 16);
  ASSERT_TRUE(der.ok());
  auto spki = PublicKey::FromSpkiDer(*der);
  ASSERT_TRUE(spki.ok()) << spki.status().ToString();
  EXPECT_TRUE(spki->Equals((*signer)->public_key()));
}

TEST(Pkcs11, GenerateKeyRefusesTakenLabelsAndUnsupportedTypes) {
  NewToken("keygen");
  auto token = OpenToken("keygen");
  ASSERT_TRUE(token);
  ASSERT_TRUE(token->GenerateKey(*KeySpec::Parse("ec:P-256"), "one").ok());
  EXPECT_EQ(token->GenerateKey(*KeySpec::Parse("ec:P-384"), "one").status().id(),
            "pkcs11.key_exists");
  EXPECT_EQ(token->GenerateKey(*KeySpec::Parse("ed25519"), "two").status().id(),
            "key.spec_invalid");
}

TEST(Pkcs11, WrongPinIsCountedAndLocksAtTheLimit) {
  NewToken("pin-test");
  std::string uri = SoftHsm::Instance().Uri("pin-test", "k");
  // A key to sign with, made after a correct login in another process (pkcs11-tool), so this
  // process has never logged in to the token.
  ASSERT_EQ(
      SoftHsm::Instance().Pkcs11Tool("--token-label pin-test --login --pin 1234 "
                                     "--keypairgen --key-type EC:prime256v1 --label k --id 01"),
      0);
  Pkcs11Options wrong = WithPin("9999");
  wrong.max_pin_failures = 3;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto signer = OpenPkcs11Signer(uri, wrong);
    ASSERT_EQ(signer.status().id(), "pkcs11.pin_incorrect") << signer.status().ToString();
    EXPECT_NE(signer.status().message().find(std::to_string(attempt) + " of 3"), std::string::npos)
        << signer.status().message();
    EXPECT_EQ(signer.status().message().find("9999"), std::string::npos);
  }
  Pkcs11Options right = WithPin("1234");
  right.max_pin_failures = 3;
  EXPECT_EQ(OpenPkcs11Signer(uri, right).status().id(), "pkcs11.pin_locked");
  // kyso's lock, not SoftHSM's (which never locks): the token itself still takes the PIN.
  EXPECT_EQ(SoftHsm::Instance().Pkcs11Tool("--token-label pin-test --login --pin 1234 -O"), 0);
}

TEST(Pkcs11, CorrectPinResetsTheCount) {
  NewToken("pin-reset");
  ASSERT_EQ(
      SoftHsm::Instance().Pkcs11Tool("--token-label pin-reset --login --pin 1234 "
                                     "--keypairgen --key-type EC:prime256v1 --label k --id 01"),
      0);
  std::string uri = SoftHsm::Instance().Uri("pin-reset", "k");
  Pkcs11Options wrong = WithPin("0000");
  wrong.max_pin_failures = 2;
  EXPECT_EQ(OpenPkcs11Signer(uri, wrong).status().id(), "pkcs11.pin_incorrect");
  Pkcs11Options right = WithPin("1234");
  right.max_pin_failures = 2;
  EXPECT_TRUE(OpenPkcs11Signer(uri, right).ok());
  auto serial = Pkcs11Token::Open(*Pkcs11Uri::Parse(uri), right);
  ASSERT_TRUE(serial.ok());
  EXPECT_EQ(ProcessPinFailureCounter().Failures(std::string(SoftHsm::kModule) + "|" +
                                                (*serial)->Info().serial),
            0);
}

TEST(Pkcs11, PinFromTheUriPinSourceAndNoPinAtAll) {
  NewToken("pin-source");
  ASSERT_EQ(
      SoftHsm::Instance().Pkcs11Tool("--token-label pin-source --login --pin 1234 "
                                     "--keypairgen --key-type EC:prime256v1 --label k --id 01"),
      0);
  Pkcs11Options none;
  none.pin.allow_prompt = false;
  ::unsetenv("KYSO_PIN_FILE");
  std::string uri = SoftHsm::Instance().Uri("pin-source", "k");
  EXPECT_EQ(OpenPkcs11Signer(uri, none).status().id(), "pkcs11.pin_unavailable");
  std::string with_source = uri + "&pin-source=file:" + SoftHsm::Instance().PinFile("1234");
  auto signer = OpenPkcs11Signer(with_source, none);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ(OpenPkcs11Signer(uri + "&pin-source=env:PIN", none).status().id(),
            "pkcs11.uri_pin_source_unsupported");
}

TEST(Pkcs11, MissingModuleAndUnknownToken) {
  EXPECT_EQ(
      OpenPkcs11Signer("pkcs11:token=x;object=k?module-path=/nonexistent/libp11.so", WithPin("1"))
          .status()
          .id(),
      "pkcs11.module_not_found");
  // A shared library that is not a PKCS#11 module.
  EXPECT_EQ(
      OpenPkcs11Signer("pkcs11:token=x;object=k?module-path=libz.so.1", WithPin("1")).status().id(),
      "pkcs11.module_invalid");
  ::unsetenv("KYSO_PKCS11_MODULE");
  EXPECT_EQ(OpenPkcs11Signer("pkcs11:token=x;object=k", WithPin("1")).status().id(),
            "pkcs11.module_unspecified");
  EXPECT_EQ(
      OpenPkcs11Signer(SoftHsm::Instance().Uri("no-such-token", "k"), WithPin("1")).status().id(),
      "pkcs11.token_not_found");
}

TEST(Pkcs11, KeyOfTheWrongTypeOrAbsent) {
  NewToken("types");
  auto& hsm = SoftHsm::Instance();
  ASSERT_EQ(hsm.Pkcs11Tool("--token-label types --login --pin 1234 --keygen --key-type AES:32 "
                           "--label aes --id 0a"),
            0);
  ASSERT_EQ(hsm.Pkcs11Tool("--token-label types --login --pin 1234 --keypairgen --key-type "
                           "EC:prime256v1 --label ec --id 0e"),
            0);
  auto open = [&](const std::string& uri) { return OpenPkcs11Signer(uri, WithPin("1234")); };
  std::string module = std::string("?module-path=") + SoftHsm::kModule;
  EXPECT_EQ(open("pkcs11:token=types;object=aes" + module).status().id(), "pkcs11.key_wrong_type");
  EXPECT_EQ(open("pkcs11:token=types;object=ec;type=public" + module).status().id(),
            "pkcs11.key_wrong_type");
  EXPECT_EQ(open("pkcs11:token=types;object=missing" + module).status().id(),
            "pkcs11.key_not_found");
  EXPECT_EQ(open("pkcs11:token=types" + module).status().id(), "pkcs11.key_unspecified");
  EXPECT_TRUE(open("pkcs11:token=types;object=ec" + module).ok());
}

TEST(Pkcs11, RecoversAfterFinalizeUnderneath) {
  NewToken("restart");
  auto token = OpenToken("restart");
  ASSERT_TRUE(token);
  auto signer = token->GenerateKey(*KeySpec::Parse("ec:P-256"), "k");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  SignatureScheme scheme;
  ASSERT_TRUE((*signer)->SignMessage(scheme, AsBytes("before")).ok());
  SoftHsm::Instance().FinalizeUnderneath();  // the HSM "restarts" under kyso
  auto sig = (*signer)->SignMessage(scheme, AsBytes("after"));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(VerifyMessage((*signer)->public_key(), scheme, AsBytes("after"), *sig).ok());
}

TEST(Pkcs11, TokenAbsentIsAClearErrorAndServiceResumes) {
  std::string serial = NewToken("pulled");
  auto token = OpenToken("pulled");
  ASSERT_TRUE(token);
  auto signer = token->GenerateKey(*KeySpec::Parse("rsa:2048"), "k");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  SignatureScheme scheme;
  ASSERT_TRUE((*signer)->SignMessage(scheme, AsBytes("before")).ok());

  auto& hsm = SoftHsm::Instance();
  ASSERT_TRUE(hsm.HideToken(serial));
  hsm.FinalizeUnderneath();  // SoftHSM notices a missing token directory at C_Initialize
  auto absent = (*signer)->SignMessage(scheme, AsBytes("while pulled"));
  EXPECT_EQ(absent.status().id(), "pkcs11.token_absent") << absent.status().ToString();
  EXPECT_EQ(absent.status().code(), StatusCode::kUnavailable);
  // Through the OpenSSL bridge too, as a certificate or OCSP signature would fail.
  EXPECT_FALSE(SignThroughOpenSsl(**signer, scheme, AsBytes("x")).ok());

  ASSERT_TRUE(hsm.RestoreToken(serial));
  auto back = (*signer)->SignMessage(scheme, AsBytes("after"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(VerifyMessage((*signer)->public_key(), scheme, AsBytes("after"), *back).ok());
}

TEST(Pkcs11, ConcurrentSignersShareTheSessionPool) {
  NewToken("threads");
  auto token = OpenToken("threads");
  ASSERT_TRUE(token);
  auto signer = token->GenerateKey(*KeySpec::Parse("ec:P-256"), "k");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string m = std::to_string(t) + ":" + std::to_string(i);
        auto sig = (*signer)->SignMessage(SignatureScheme{}, AsBytes(m));
        if (sig.ok() &&
            VerifyMessage((*signer)->public_key(), SignatureScheme{}, AsBytes(m), *sig).ok())
          ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 100);
}

TEST(Pkcs11, ForkedChildSignsAfterReinitializing) {
  NewToken("forked");
  auto token = OpenToken("forked");
  ASSERT_TRUE(token);
  auto signer = token->GenerateKey(*KeySpec::Parse("ec:P-256"), "k");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  ASSERT_TRUE((*signer)->SignMessage(SignatureScheme{}, AsBytes("parent")).ok());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto sig = (*signer)->SignMessage(SignatureScheme{}, AsBytes("child"));
    bool ok =
        sig.ok() &&
        VerifyMessage((*signer)->public_key(), SignatureScheme{}, AsBytes("child"), *sig).ok();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE((*signer)->SignMessage(SignatureScheme{}, AsBytes("parent again")).ok());
}

TEST(Pkcs11, CertificateBesideTheKeyAndSignedThroughX509Sign) {
  NewToken("cert");
  auto token = OpenToken("cert");
  ASSERT_TRUE(token);
  auto signer = token->GenerateKey(*KeySpec::Parse("rsa:2048"), "k", Bytes{0xc1});
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  // A self-signed certificate signed by X509_sign with the token key's EVP_PKEY.
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("token"), -1, -1, 0);
  X509_set_subject_name(x, name);
  X509_set_issuer_name(x, name);
  X509_NAME_free(name);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, (*signer)->public_key().openssl());
  ASSERT_GT(X509_sign(x, (*signer)->openssl_key(), EVP_sha256()), 0);
  EXPECT_EQ(X509_verify(x, (*signer)->public_key().openssl()), 1);
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  Bytes cert(der, der + len);
  OPENSSL_free(der);
  X509_free(x);

  EXPECT_EQ(SoftHsm::Instance().ReadSecretAttribute("cert", "1234", "c1", CKA_PRIVATE_EXPONENT),
            CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(SoftHsm::Instance().ReadSecretAttribute("cert", "1234", "c1", CKA_PRIME_1),
            CKR_ATTRIBUTE_SENSITIVE);
  ASSERT_TRUE(token->ImportCertificate(cert, "k", Bytes{0xc1}).ok());
  auto found = token->CertificatesWithId(Bytes{0xc1});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front(), cert);
  std::string out;
  ASSERT_EQ(SoftHsm::Instance().Pkcs11Tool("--token-label cert -O", &out), 0);
  EXPECT_NE(out.find("Certificate Object"), std::string::npos) << out;
}

}  // namespace
}  // namespace kyso::crypto
