#include "x509/cms.h"

#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "crypto/digest.h"
#include "x509/der_writer.h"

namespace kyso::x509 {

namespace {

using namespace internal::der;  // NOLINT(google-build-using-namespace): internal helpers

// --- object identifiers -----------------------------------------------------------------------

// RFC 5652 §4 id-data, §11.3 signing-time (the other CMS OIDs are in der_writer.h).
constexpr std::string_view kIdData = "1.2.840.113549.1.7.1";
constexpr std::string_view kIdSigningTime = "1.2.840.113549.1.9.5";
// ETSI EN 319 122-1 §5.2.3 (RFC 5126 §5.11.1) id-aa-ets-commitmentType.
constexpr std::string_view kIdAaEtsCommitmentType = "1.2.840.113549.1.9.16.2.16";
// RFC 3161 Appendix A id-aa-signatureTimeStampToken.
constexpr std::string_view kIdAaSignatureTimeStampToken = "1.2.840.113549.1.9.16.2.14";
// RFC 4055 §2.1-3: id-RSASSA-PSS and id-mgf1.
constexpr std::string_view kIdRsassaPss = "1.2.840.113549.1.1.10";
constexpr std::string_view kIdMgf1 = "1.2.840.113549.1.1.8";

constexpr uint8_t kVersion1[] = {kInteger, 0x01, 0x01};

Status Malformed(std::string message) {
  return InvalidArgument("cms.malformed", std::move(message));
}

// AlgorithmIdentifier of the SignerInfo signatureAlgorithm.
std::optional<Bytes> SignatureAlgorithmIdentifier(const crypto::KeySpec& key,
                                                  const crypto::SignatureScheme& scheme) {
  static constexpr uint8_t kNullParams[] = {kNull, 0x00};
  const size_t index = scheme.digest == crypto::DigestAlgorithm::kSha256   ? 0
                       : scheme.digest == crypto::DigestAlgorithm::kSha384 ? 1
                                                                           : 2;
  switch (key.algorithm) {
    case crypto::KeyAlgorithm::kRsa: {
      if (scheme.padding == crypto::RsaPadding::kPkcs1v15) {
        //= https://www.rfc-editor.org/rfc/rfc5754#section-3.2
        //# When any of these four object identifiers appears within an AlgorithmIdentifier,
        //# the parameters MUST be NULL.
        static constexpr std::string_view kOids[] = {
            "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"};
        return Tlv(kSequence, {OidTlv(kOids[index]), kNullParams});
      }
      //= https://www.rfc-editor.org/rfc/rfc4056#section-2.2
      //# When the id-RSASSA-PSS algorithm identifier is used for a signature, the
      //# AlgorithmIdentifier parameters field MUST contain RSASSA-PSS-params.
      //= https://www.rfc-editor.org/rfc/rfc4055#section-3.1
      //# RSASSA-PSS-params  ::=  SEQUENCE  {
      //#    hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
      //#    maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
      //#    saltLength         [2] INTEGER DEFAULT 20,
      //#    trailerField       [3] INTEGER DEFAULT 1  }
      // SHA-2 with MGF1 over the same hash and a salt as long as the hash (what
      // crypto::Signer makes); trailerField is its DEFAULT and so absent (X.690 §11.5).
      Bytes hash = DigestAlgorithmIdentifier(scheme.digest);
      Bytes mgf = Tlv(kSequence, {OidTlv(kIdMgf1), hash});
      Bytes salt = UnsignedInteger(crypto::DigestSize(scheme.digest));
      Bytes params =
          Tlv(kSequence, {Tlv(kContext0, {hash}), Tlv(kContext1, {mgf}), Tlv(kContext2, {salt})});
      return Tlv(kSequence, {OidTlv(kIdRsassaPss), params});
    }
    case crypto::KeyAlgorithm::kEcdsa: {
      //= https://www.rfc-editor.org/rfc/rfc5758#section-3.2
      //# When the ecdsa-with-SHA224, ecdsa-with-SHA256, ecdsa-with-SHA384, or
      //# ecdsa-with-SHA512 algorithm identifier appears in the algorithm field as an
      //# AlgorithmIdentifier, the encoding MUST omit the parameters field.
      static constexpr std::string_view kOids[] = {"1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3",
                                                   "1.2.840.10045.4.3.4"};
      return Tlv(kSequence, {OidTlv(kOids[index])});
    }
    case crypto::KeyAlgorithm::kEd25519:
      return std::nullopt;
  }
  return std::nullopt;
}

//= https://www.rfc-editor.org/rfc/rfc5652#section-11.3
//# Dates between 1 January 1950 and 31 December 2049 (inclusive) MUST be encoded as UTCTime.
//# Any dates with year values before 1950 or after 2049 MUST be encoded as GeneralizedTime.
//# UTCTime values MUST be expressed in Coordinated Universal Time (formerly known as Greenwich
//# Mean Time (GMT) and Zulu clock time) and MUST include seconds (i.e., times are
//# YYMMDDHHMMSSZ), even where the number of seconds is zero.
std::optional<Bytes> SigningTimeValue(UnixSeconds t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (t < 0 || gmtime_r(&tt, &tm) == nullptr) return std::nullopt;
  int year = tm.tm_year + 1900;
  if (year >= 2050) return GeneralizedTime(t);
  char text[64];
  std::snprintf(text, sizeof text, "%02d%02d%02d%02d%02d%02dZ", year % 100, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return Tlv(kUtcTime, {AsBytes(std::string_view(text, 13))});
}

// Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
// (RFC 5652 §5.3), with a single value.
Bytes Attribute(std::string_view oid, ByteSpan value) {
  return Tlv(kSequence, {OidTlv(oid), Tlv(kSet, {value})});
}

// --- reading our own (and other) SignedData ----------------------------------------------------

// The parts of a ContentInfo/SignedData with one SignerInfo that adding an unsigned attribute
// needs; every span points into the input.
struct SignerInfoParts {
  ByteSpan signed_data_head;             // SignedData contents before signerInfos
  ByteSpan signer_info_head;             // SignerInfo contents up to and including signature
  ByteSpan signature;                    // the signature OCTET STRING's contents
  std::vector<ByteSpan> unsigned_attrs;  // each Attribute element
};

// The span from `from`'s start up to `to`'s start (both inside one buffer).
ByteSpan Between(ByteSpan from, ByteSpan to) {
  return from.first(static_cast<size_t>(to.data() - from.data()));
}

//= https://www.rfc-editor.org/rfc/rfc5652#section-3
//# ContentInfo ::= SEQUENCE {
//#   contentType ContentType,
//#   content [0] EXPLICIT ANY DEFINED BY contentType }
//= https://www.rfc-editor.org/rfc/rfc5652#section-5.1
//# SignedData ::= SEQUENCE {
//#   version CMSVersion,
//#   digestAlgorithms DigestAlgorithmIdentifiers,
//#   encapContentInfo EncapsulatedContentInfo,
//#   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//#   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//#   signerInfos SignerInfos }
//= https://www.rfc-editor.org/rfc/rfc5652#section-5.3
//# SignerInfo ::= SEQUENCE {
//#   version CMSVersion,
//#   sid SignerIdentifier,
//#   digestAlgorithm DigestAlgorithmIdentifier,
//#   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//#   signatureAlgorithm SignatureAlgorithmIdentifier,
//#   signature SignatureValue,
//#   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
Result<SignerInfoParts> ReadSignerInfo(ByteSpan cms) {
  static const Bytes kSignedDataOid = *OidFromText(kIdSignedData);
  DerReader input(cms);
  ByteSpan content_info, content_type, explicit_content, signed_data;
  if (!input.Read(kSequence, &content_info) || !input.empty()) {
    return Malformed("not one DER ContentInfo");
  }
  DerReader ci(content_info);
  if (!ci.Read(kOid, &content_type) || !std::ranges::equal(content_type, kSignedDataOid)) {
    return Malformed("the ContentInfo is not id-signedData");
  }
  if (!ci.Read(kContext0, &explicit_content) || !ci.empty()) return Malformed("bad ContentInfo");
  DerReader ec(explicit_content);
  if (!ec.Read(kSequence, &signed_data) || !ec.empty()) return Malformed("bad SignedData");

  DerReader sd(signed_data);
  ByteSpan c, signer_infos, signer_infos_element;
  if (!sd.Read(kInteger, &c) || !sd.Read(kSet, &c) || !sd.Read(kSequence, &c)) {
    return Malformed("bad SignedData header");
  }
  if (sd.Peek(kContext0) && !sd.Read(kContext0, &c)) return Malformed("bad certificates");
  if (sd.Peek(kContext1) && !sd.Read(kContext1, &c)) return Malformed("bad crls");
  if (!sd.Read(kSet, &signer_infos, &signer_infos_element) || !sd.empty()) {
    return Malformed("bad signerInfos");
  }
  SignerInfoParts out;
  out.signed_data_head = Between(signed_data, signer_infos_element);

  DerReader sis(signer_infos);
  ByteSpan signer_info;
  if (!sis.Read(kSequence, &signer_info)) {
    return InvalidArgument("cms.signer_count", "SignedData has no SignerInfo");
  }
  if (!sis.empty()) {
    return InvalidArgument("cms.signer_count", "SignedData has more than one SignerInfo");
  }
  DerReader si(signer_info);
  uint8_t tag = 0;
  ByteSpan signature_element, unsigned_attrs, unsigned_element;
  if (!si.Read(kInteger, &c) || !si.ReadAny(&tag, &c) || !si.Read(kSequence, &c)) {
    return Malformed("bad SignerInfo header");
  }
  if (si.Peek(kContext0) && !si.Read(kContext0, &c)) return Malformed("bad signedAttrs");
  if (!si.Read(kSequence, &c) || !si.Read(kOctetString, &out.signature, &signature_element)) {
    return Malformed("bad SignerInfo signature");
  }
  // The head ends where the signature element ends.
  out.signer_info_head = signer_info.first(static_cast<size_t>(
      signature_element.data() + signature_element.size() - signer_info.data()));
  if (!si.empty()) {
    if (!si.Read(kContext1, &unsigned_attrs, &unsigned_element) || !si.empty() ||
        unsigned_attrs.empty()) {
      return Malformed("bad unsignedAttrs");
    }
    DerReader ua(unsigned_attrs);
    while (!ua.empty()) {
      ByteSpan attr, attr_element, attr_type, values;
      if (!ua.Read(kSequence, &attr, &attr_element)) return Malformed("bad unsigned attribute");
      DerReader a(attr);
      if (!a.Read(kOid, &attr_type) || !IsDerOid(attr_type) || !a.Read(kSet, &values) ||
          !a.empty()) {
        return Malformed("bad unsigned attribute");
      }
      out.unsigned_attrs.push_back(attr_element);
    }
  }
  return out;
}

}  // namespace

Result<Bytes> SignDetachedCms(const CmsSignRequest& request) {
  const crypto::Signer& signer = request.signer;
  const CmsSignOptions& options = request.options;
  //= https://www.rfc-editor.org/rfc/rfc5652#section-5.4
  //# the message-digest attribute ... MUST contain the message digest of the content
  //# computed with the digest algorithm of the SignerInfo digestAlgorithm.
  if (request.content_digest.size() != crypto::DigestSize(request.digest_algorithm)) {
    return InvalidArgument("cms.digest_length",
                           "a " + std::string(crypto::DigestName(request.digest_algorithm)) +
                               " digest has " +
                               std::to_string(crypto::DigestSize(request.digest_algorithm)) +
                               " bytes, not " + std::to_string(request.content_digest.size()));
  }
  if (request.scheme.digest != request.digest_algorithm) {
    return InvalidArgument("cms.digest_mismatch",
                           "the signature scheme hashes with " +
                               std::string(crypto::DigestName(request.scheme.digest)) +
                               " but the content digest is " +
                               std::string(crypto::DigestName(request.digest_algorithm)));
  }
  const Certificate& cert = request.signer_certificate;
  if (!cert.public_key().Equals(signer.public_key())) {
    return FailedPrecondition("cms.key_mismatch",
                              "the signing key does not match the signer certificate's key");
  }
  crypto::KeySpec key = signer.key_spec();
  auto signature_algorithm = SignatureAlgorithmIdentifier(key, request.scheme);
  if (!signature_algorithm) {
    return FailedPrecondition("cms.unsupported_key",
                              "a " + key.ToString() + " key cannot sign CMS here (RFC 8419)");
  }
  std::optional<Bytes> commitment_oid;
  if (options.commitment_type) {
    commitment_oid = OidFromText(*options.commitment_type);
    if (!commitment_oid) {
      return InvalidArgument(
          "cms.invalid_options",
          "commitment type \"" + *options.commitment_type + "\" is not a dotted OID");
    }
  }

  X509* x = cert.openssl();
  Bytes issuer = NameDer(X509_get_issuer_name(x));
  Bytes serial = IntegerDer(X509_get0_serialNumber(x));
  if (issuer.empty() || serial.empty()) {
    return Internal("cms.certificate", "cannot encode the signer certificate's issuer/serial");
  }

  // --- signed attributes ---
  //= https://www.rfc-editor.org/rfc/rfc5652#section-11.1
  //# The content-type attribute MUST be present whenever signed attributes are present in
  //# signed-data content.
  // ETSI EN 319 122-1 §5.1.1: its value is the eContentType, here id-data.
  Bytes content_type_attr = Attribute(kIdContentType, OidTlv(kIdData));
  //= https://www.rfc-editor.org/rfc/rfc5652#section-11.2
  //# MessageDigest ::= OCTET STRING
  Bytes message_digest_attr =
      Attribute(kIdMessageDigest, Tlv(kOctetString, {request.content_digest}));
  //= https://www.rfc-editor.org/rfc/rfc5035#section-5.4.1
  //# SigningCertificateV2 ::=  SEQUENCE {
  //#     certs        SEQUENCE OF ESSCertIDv2,
  //#     policies     SEQUENCE OF PolicyInformation OPTIONAL }
  //# ESSCertIDv2 ::=  SEQUENCE {
  //#     hashAlgorithm           AlgorithmIdentifier
  //#            DEFAULT {algorithm id-sha256},
  //#     certHash                 Hash,
  //#     issuerSerial             IssuerSerial OPTIONAL }
  //# IssuerSerial ::= SEQUENCE {
  //#     issuer                   GeneralNames,
  //#     serialNumber             CertificateSerialNumber }
  // ETSI EN 319 122-1 §5.2.2.3 requires the ESS signing-certificate-v2 attribute in B-B. The
  // hash is SHA-256, the DEFAULT, so hashAlgorithm is left out (X.690 §11.5); GeneralName
  // directoryName is [4] EXPLICIT Name (RFC 5280 §4.2.1.6).
  Bytes cert_hash = Tlv(kOctetString, {crypto::Sha256(cert.der())});
  Bytes issuer_serial = Tlv(kSequence, {Tlv(kSequence, {Tlv(kContext4, {issuer})}), serial});
  Bytes ess_cert_id = Tlv(kSequence, {cert_hash, issuer_serial});
  Bytes signing_cert_attr =
      Attribute(kIdAaSigningCertificateV2, Tlv(kSequence, {Tlv(kSequence, {ess_cert_id})}));
  std::vector<ByteSpan> attrs = {content_type_attr, message_digest_attr, signing_cert_attr};

  Bytes signing_time_attr;
  if (!options.pades) {
    // ETSI EN 319 122-1 §5.2.1: "The signing-time attribute shall be present" (CAdES B-B).
    auto time = SigningTimeValue(options.signing_time);
    if (!time) return InvalidArgument("cms.bad_time", "signing time out of range");
    signing_time_attr = Attribute(kIdSigningTime, *time);
    attrs.push_back(signing_time_attr);
  }
  // PAdES: ETSI EN 319 142-1 §5.2.2: "The signing-time attribute shall not be present" — the
  // claimed signing time is the signature dictionary's M entry.
  Bytes commitment_attr;
  if (commitment_oid) {
    //= ETSI EN 319 122-1 §5.2.3
    //# CommitmentTypeIndication ::= SEQUENCE {
    //#     commitmentTypeId CommitmentTypeIdentifier,
    //#     commitmentTypeQualifier SEQUENCE SIZE (1..MAX) OF
    //#         CommitmentTypeQualifier OPTIONAL}
    commitment_attr =
        Attribute(kIdAaEtsCommitmentType, Tlv(kSequence, {Tlv(kOid, {*commitment_oid})}));
    attrs.push_back(commitment_attr);
  }
  //= https://www.rfc-editor.org/rfc/rfc5652#section-5.4
  //# the DER encoding of the SignedAttrs value ... A separate encoding of the signedAttrs
  //# field is performed for message digest calculation. The IMPLICIT [0] tag in the
  //# signedAttrs is not used for the DER encoding, rather an EXPLICIT SET OF tag is used.
  Bytes signed_attrs = SortedSetOf(kSet, attrs);
  KYSO_ASSIGN_OR_RETURN(Bytes signature, signer.SignMessage(request.scheme, signed_attrs));
  signed_attrs[0] = kContext0;

  //= https://www.rfc-editor.org/rfc/rfc5652#section-5.3
  //# version is the syntax version number. If the SignerIdentifier is the CHOICE
  //# issuerAndSerialNumber, then the version MUST be 1.
  // IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber }
  Bytes digest_algorithm = DigestAlgorithmIdentifier(request.digest_algorithm);
  Bytes signer_info =
      Tlv(kSequence, {kVersion1, Tlv(kSequence, {issuer, serial}), digest_algorithm, signed_attrs,
                      *signature_algorithm, Tlv(kOctetString, {signature})});

  // certificates [0] IMPLICIT CertificateSet: the signer's first in the caller's list, but
  // DER orders a SET OF by encoding; duplicates are left out.
  std::vector<ByteSpan> certs = {cert.der()};
  for (const Certificate& extra : request.extra_certificates) {
    if (std::ranges::none_of(certs, [&](ByteSpan c) { return std::ranges::equal(c, extra.der()); }))
      certs.push_back(extra.der());
  }
  Bytes certificates = SortedSetOf(kContext0, certs);

  //= https://www.rfc-editor.org/rfc/rfc5652#section-5.2
  //# EncapsulatedContentInfo ::= SEQUENCE {
  //#   eContentType ContentType,
  //#   eContent [0] EXPLICIT OCTET STRING OPTIONAL }
  //# ... If the eContent value within EncapsulatedContentInfo is absent, then the
  //# signatureValue is calculated and the eContentType is assigned as though the eContent
  //# value was present.
  Bytes encap = Tlv(kSequence, {OidTlv(kIdData)});
  //= https://www.rfc-editor.org/rfc/rfc5652#section-5.1
  //# ELSE IF ((certificates is present) AND
  //#    (any version 1 attribute certificates are present)) OR
  //#    (any SignerInfo structures are version 3) OR
  //#    (encapContentInfo eContentType is other than id-data)
  //#    THEN version MUST be 3
  //# ELSE version MUST be 1
  Bytes signed_data = Tlv(kSequence, {kVersion1, Tlv(kSet, {digest_algorithm}), encap, certificates,
                                      Tlv(kSet, {signer_info})});
  return Tlv(kSequence, {OidTlv(kIdSignedData), Tlv(kContext0, {signed_data})});
}

Result<Bytes> SignatureValueOf(ByteSpan cms) {
  KYSO_ASSIGN_OR_RETURN(SignerInfoParts parts, ReadSignerInfo(cms));
  return Bytes(parts.signature.begin(), parts.signature.end());
}

Result<Bytes> AddUnsignedSignatureTimeStamp(ByteSpan cms, ByteSpan timestamp_token) {
  KYSO_ASSIGN_OR_RETURN(SignerInfoParts parts, ReadSignerInfo(cms));
  //= https://www.rfc-editor.org/rfc/rfc3161#section-3.3 (TimeStampToken, §2.4.2)
  //# TimeStampToken ::= ContentInfo
  //#   -- contentType is id-signedData ([CMS])
  //#   -- content is SignedData ([CMS])
  static const Bytes kSignedDataOid = *OidFromText(kIdSignedData);
  DerReader token(timestamp_token);
  ByteSpan content_info, content_type, content;
  bool ok = token.Read(kSequence, &content_info) && token.empty();
  DerReader ci(content_info);
  ok = ok && ci.Read(kOid, &content_type) && std::ranges::equal(content_type, kSignedDataOid) &&
       ci.Read(kContext0, &content) && ci.empty();
  if (!ok) {
    return InvalidArgument("cms.malformed_timestamp",
                           "the time-stamp token is not a DER ContentInfo of id-signedData");
  }
  //= https://www.rfc-editor.org/rfc/rfc3161#appendix-A
  //# The following object identifier identifies the signature time stamp attribute:
  //#   id-aa-signatureTimeStampToken OBJECT IDENTIFIER ::= { iso(1) member-body(2)
  //#   us(840) rsadsi(113549) pkcs(1) pkcs-9(9) smime(16) aa(2) 14 }
  //# The value of messageImprint field within TimeStampToken shall be a hash of the value of
  //# signature field within SignerInfo for the signedData being time-stamped.
  Bytes attr = Attribute(kIdAaSignatureTimeStampToken, timestamp_token);
  std::vector<ByteSpan> attrs = parts.unsigned_attrs;
  attrs.push_back(attr);
  // UnsignedAttributes ::= SET SIZE (1..MAX) OF Attribute, [1] IMPLICIT (RFC 5652 §5.3).
  Bytes unsigned_attrs = SortedSetOf(kContext1, attrs);
  Bytes signer_info = Tlv(kSequence, {parts.signer_info_head, unsigned_attrs});
  Bytes signed_data = Tlv(kSequence, {parts.signed_data_head, Tlv(kSet, {signer_info})});
  return Tlv(kSequence, {OidTlv(kIdSignedData), Tlv(kContext0, {signed_data})});
}

}  // namespace kyso::x509
