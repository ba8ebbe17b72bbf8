#include "x509/path.h"

#include <gtest/gtest.h>

#include "testlib/csr_factory.h"
#include "x509/crl.h"

namespace kyso::x509 {
namespace {

using crypto::SoftwareSigner;

constexpr UnixSeconds kT0 = 1700000000;
constexpr int64_t kYear = 365 * kSecondsPerDay;

struct Issued {
  SoftwareSigner signer;
  Certificate cert;
};

// A certificate for `key_spec`'s cached key, signed by `issuer` (nullptr: self-signed).
Issued Issue(const std::string& key_spec, const std::string& subject, const Issued* issuer,
             Bytes serial, UnixSeconds not_before, UnixSeconds not_after, Extensions extensions) {
  const auto& key = testlib::CachedKey(key_spec);
  SoftwareSigner signer(key, key_spec);
  CertificateTemplate t{std::move(serial), *Name::ParseSlashed(subject),
                        key.public_key(),  not_before,
                        not_after,         std::move(extensions)};
  const SoftwareSigner& by = issuer ? issuer->signer : signer;
  auto cert = BuildCertificate(t, issuer ? &issuer->cert : nullptr, by,
                               crypto::SignatureScheme::DefaultFor(by.key_spec()));
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return {signer, *cert};
}

Extensions CaExtensions(std::optional<int> path_length = std::nullopt) {
  Extensions e;
  e.is_ca = true;
  e.path_length = path_length;
  e.key_usage = {"keyCertSign", "cRLSign"};
  return e;
}

Extensions SigningExtensions() {
  Extensions e;
  e.key_usage = {"digitalSignature", "nonRepudiation"};
  e.extended_key_usage = {"documentSigning", "emailProtection"};
  e.dns_sans = {"sign.example.vn"};
  return e;
}

// root (P-384, 20 years) -> issuing CA (P-256, 10 years) -> leaf (Ed25519, one year from a
// month after kT0), so the leaf alone is expired or not yet valid at the times tested.
struct Pki {
  Issued root = Issue("ec:P-384", "/C=VN/O=Kyso test/CN=Root", nullptr, {0x01}, kT0,
                      kT0 + 20 * kYear, CaExtensions());
  Issued ca = Issue("ec:P-256", "/C=VN/O=Kyso test/CN=Issuing", &root, {0x02}, kT0,
                    kT0 + 10 * kYear, CaExtensions(0));
  Issued leaf = Issue("ed25519", "/C=VN/CN=Nguyễn Văn An", &ca, {0x10, 0x01},
                      kT0 + 30 * kSecondsPerDay, kT0 + kYear, SigningExtensions());

  PathOptions Options() const {
    PathOptions o;
    o.trust_anchors = {root.cert};
    o.intermediates = {ca.cert};
    o.at = kT0 + 100 * kSecondsPerDay;
    return o;
  }
  // A CRL from `issuer` listing `revoked` serials, current at Options().at.
  static Bytes Crl(const Issued& issuer, std::vector<Bytes> revoked) {
    CrlTemplate t;
    t.number = 1;
    t.this_update = kT0 + 90 * kSecondsPerDay;
    t.next_update = kT0 + 120 * kSecondsPerDay;
    for (Bytes& serial : revoked) t.entries.push_back({serial, kT0 + 80 * kSecondsPerDay, 1, {}});
    auto der = BuildCrl(t, issuer.cert, issuer.signer, {});
    EXPECT_TRUE(der.ok()) << der.status().ToString();
    return *der;
  }
};

PathResult Verify(const Certificate& leaf, const PathOptions& options) {
  auto result = VerifyPath(leaf, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : PathResult{};
}

TEST(Path, ValidChainInOrder) {
  Pki pki;
  PathResult r = Verify(pki.leaf.cert, pki.Options());
  ASSERT_TRUE(r.valid) << r.error_id << ": " << r.detail;
  EXPECT_EQ(r.error_id, "");
  EXPECT_EQ(r.depth, -1);
  ASSERT_EQ(r.chain.size(), 3u);
  EXPECT_EQ(r.chain[0].der(), pki.leaf.cert.der());
  EXPECT_EQ(r.chain[1].der(), pki.ca.cert.der());
  EXPECT_EQ(r.chain[2].der(), pki.root.cert.der());
}

TEST(Path, ExpiredLeaf) {
  Pki pki;
  PathOptions o = pki.Options();
  o.at = pki.leaf.cert.not_after() + 1;
  PathResult r = Verify(pki.leaf.cert, o);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.error_id, "path.expired");
  EXPECT_EQ(r.depth, 0);
  EXPECT_NE(r.detail.find("CN=Nguyễn Văn An"), std::string::npos) << r.detail;
}

TEST(Path, LeafNotYetValid) {
  Pki pki;
  PathOptions o = pki.Options();
  o.at = pki.leaf.cert.not_before() - 1;
  PathResult r = Verify(pki.leaf.cert, o);
  EXPECT_EQ(r.error_id, "path.not_yet_valid");
  EXPECT_EQ(r.depth, 0);
}

TEST(Path, UntrustedRoot) {
  Pki pki;
  Issued other = Issue("rsa:2048", "/C=VN/O=Kyso test/CN=Other root", nullptr, {0x03}, kT0,
                       kT0 + 20 * kYear, CaExtensions());
  PathOptions o = pki.Options();
  o.trust_anchors = {other.cert};
  PathResult r = Verify(pki.leaf.cert, o);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.error_id, "path.untrusted");
  // The path as far as it was built: leaf, issuing CA, and the root it names.
  EXPECT_GE(r.chain.size(), 2u);

  o.trust_anchors.clear();
  EXPECT_EQ(Verify(pki.leaf.cert, o).error_id, "path.untrusted");
}

TEST(Path, WrongSignature) {
  Pki pki;
  Bytes der = pki.leaf.cert.der();
  der.back() ^= 0x01;  // the last octet of the ECDSA signature's s
  auto tampered = Certificate::FromDer(der);
  ASSERT_TRUE(tampered.ok());
  PathResult r = Verify(*tampered, pki.Options());
  EXPECT_EQ(r.error_id, "path.bad_signature");
  EXPECT_EQ(r.depth, 0);
}

TEST(Path, IssuerWithoutBasicConstraints) {
  Pki pki;
  Extensions not_ca;  // no basicConstraints, no keyUsage
  Issued fake_ca = Issue("ec:P-256", "/C=VN/O=Kyso test/CN=Issuing", &pki.root, {0x04}, kT0,
                         kT0 + 10 * kYear, not_ca);
  Issued leaf =
      Issue("ed25519", "/C=VN/CN=Leaf", &fake_ca, {0x05}, kT0, kT0 + kYear, SigningExtensions());
  PathOptions o = pki.Options();
  o.intermediates = {fake_ca.cert};
  PathResult r = Verify(leaf.cert, o);
  EXPECT_EQ(r.error_id, "path.invalid_ca");
  EXPECT_EQ(r.depth, 1);
}

TEST(Path, PathLengthExceeded) {
  Pki pki;
  // The issuing CA has pathLenConstraint 0: it may not issue another CA that issues leaves.
  Issued sub = Issue("rsa:2048", "/C=VN/O=Kyso test/CN=Sub", &pki.ca, {0x06}, kT0, kT0 + 5 * kYear,
                     CaExtensions());
  Issued leaf =
      Issue("ed25519", "/C=VN/CN=Leaf", &sub, {0x07}, kT0, kT0 + kYear, SigningExtensions());
  PathOptions o = pki.Options();
  o.intermediates = {pki.ca.cert, sub.cert};
  PathResult r = Verify(leaf.cert, o);
  EXPECT_EQ(r.error_id, "path.path_length");
}

TEST(Path, MaxDepth) {
  Pki pki;
  PathOptions o = pki.Options();
  o.max_depth = 1;
  EXPECT_TRUE(Verify(pki.leaf.cert, o).valid);
  o.max_depth = 0;
  EXPECT_EQ(Verify(pki.leaf.cert, o).error_id, "path.depth");
  o.max_depth = -1;
  EXPECT_EQ(VerifyPath(pki.leaf.cert, o).status().id(), "path.bad_option");
}

// Self-issued intermediates (a CA's key rollover) do not count against max_depth, as they do
// not count against pathLenConstraint (RFC 5280 §6.1.4(l)).
TEST(Path, MaxDepthSkipsSelfIssuedIntermediates) {
  Pki pki;
  Issued rollover = Issue("rsa:2048", "/C=VN/O=Kyso test/CN=Issuing", &pki.ca, {0x0A}, kT0,
                          kT0 + 5 * kYear, CaExtensions());
  Issued leaf =
      Issue("ed25519", "/C=VN/CN=Leaf", &rollover, {0x0B}, kT0, kT0 + kYear, SigningExtensions());
  PathOptions o = pki.Options();
  o.intermediates = {rollover.cert, pki.ca.cert};
  o.max_depth = 1;
  PathResult r = Verify(leaf.cert, o);
  ASSERT_TRUE(r.valid) << r.error_id << ": " << r.detail;
  EXPECT_EQ(r.chain.size(), 4u);
  o.max_depth = 0;
  r = Verify(leaf.cert, o);
  EXPECT_EQ(r.error_id, "path.depth");
  EXPECT_EQ(r.depth, 2);
}

TEST(Path, MalformedDnsNameBreaksTheProfile) {
  Pki pki;
  Extensions e = SigningExtensions();
  e.dns_sans = {".example.vn"};  // an empty label (RFC 5280 §4.2.1.6, RFC 1034 §3.5)
  Issued leaf = Issue("ed25519", "/C=VN/CN=Leaf", &pki.ca, {0x0C}, kT0, kT0 + kYear, e);
  PathResult r = Verify(leaf.cert, pki.Options());
  EXPECT_EQ(r.error_id, "path.profile");
  EXPECT_EQ(r.depth, 0);

  e.dns_sans = {"*.example.vn", "a-b_c.example.vn"};
  Issued wildcard = Issue("ed25519", "/C=VN/CN=Leaf", &pki.ca, {0x0D}, kT0, kT0 + kYear, e);
  EXPECT_TRUE(Verify(wildcard.cert, pki.Options()).valid);
}

TEST(Path, TrustedIntermediateEndsThePath) {
  Pki pki;
  PathOptions o = pki.Options();
  o.trust_anchors = {pki.ca.cert};
  o.intermediates.clear();
  PathResult r = Verify(pki.leaf.cert, o);
  ASSERT_TRUE(r.valid) << r.error_id << ": " << r.detail;
  ASSERT_EQ(r.chain.size(), 2u);
  EXPECT_EQ(r.chain[1].der(), pki.ca.cert.der());

  // The anchor is not checked for revocation (RFC 5280 §6.1.3(a)(3) covers the path only):
  // the issuing CA's CRL about the leaf is all that is needed.
  o.check_revocation = true;
  o.crls = {Pki::Crl(pki.ca, {})};
  PathResult checked = Verify(pki.leaf.cert, o);
  EXPECT_TRUE(checked.valid) << checked.error_id << ": " << checked.detail;
}

TEST(Path, RevocationFromCrls) {
  Pki pki;
  PathOptions o = pki.Options();
  o.check_revocation = true;
  // The root's CRL covers the issuing CA; no CRL is needed for the root itself (the anchor).
  o.crls = {Pki::Crl(pki.root, {}), Pki::Crl(pki.ca, {{0x7F}})};
  PathResult good = Verify(pki.leaf.cert, o);
  EXPECT_TRUE(good.valid) << good.error_id << ": " << good.detail;

  o.crls = {Pki::Crl(pki.root, {}), Pki::Crl(pki.ca, {{0x7F}, {0x10, 0x01}})};
  PathResult revoked = Verify(pki.leaf.cert, o);
  EXPECT_EQ(revoked.error_id, "path.revoked");
  EXPECT_EQ(revoked.depth, 0);

  o.crls = {Pki::Crl(pki.root, {{0x02}}), Pki::Crl(pki.ca, {})};
  PathResult ca_revoked = Verify(pki.leaf.cert, o);
  EXPECT_EQ(ca_revoked.error_id, "path.revoked");
  EXPECT_EQ(ca_revoked.depth, 1);
}

TEST(Path, MissingCrlWhenRevocationRequired) {
  Pki pki;
  PathOptions o = pki.Options();
  o.check_revocation = true;
  o.crls = {Pki::Crl(pki.root, {})};
  PathResult r = Verify(pki.leaf.cert, o);
  EXPECT_EQ(r.error_id, "path.crl_missing");
  EXPECT_EQ(r.depth, 0);

  o.crls.clear();
  EXPECT_EQ(Verify(pki.leaf.cert, o).error_id, "path.crl_missing");

  // CRLs are ignored unless revocation is asked for.
  o.check_revocation = false;
  EXPECT_TRUE(Verify(pki.leaf.cert, o).valid);
}

TEST(Path, StaleCrl) {
  Pki pki;
  PathOptions o = pki.Options();
  o.check_revocation = true;
  o.crls = {Pki::Crl(pki.root, {}), Pki::Crl(pki.ca, {})};
  o.at = kT0 + 200 * kSecondsPerDay;  // after both CRLs' nextUpdate
  EXPECT_EQ(Verify(pki.leaf.cert, o).error_id, "path.crl_invalid");
}

TEST(Path, BadCrlIsAnInputError) {
  Pki pki;
  PathOptions o = pki.Options();
  o.check_revocation = true;
  const ByteSpan garbage = AsBytes("not a CRL");
  o.crls = {Bytes(garbage.begin(), garbage.end())};
  EXPECT_EQ(VerifyPath(pki.leaf.cert, o).status().id(), "path.bad_crl");
}

TEST(Path, ExtendedKeyUsage) {
  Pki pki;
  PathOptions o = pki.Options();
  o.required_eku = {"serverAuth", "clientAuth"};
  PathResult r = Verify(pki.leaf.cert, o);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.error_id, "path.eku");
  EXPECT_EQ(r.depth, 0);
  ASSERT_EQ(r.chain.size(), 3u);  // the path itself was fine

  o.required_eku = {"serverAuth", "documentSigning"};
  EXPECT_TRUE(Verify(pki.leaf.cert, o).valid);
  o.required_eku = {"1.3.6.1.5.5.7.3.4"};  // emailProtection as a dotted OID
  EXPECT_TRUE(Verify(pki.leaf.cert, o).valid);

  // No extendedKeyUsage extension: unrestricted (RFC 5280 §4.2.1.12).
  Extensions plain;
  plain.key_usage = {"digitalSignature"};
  Issued leaf = Issue("ed25519", "/C=VN/CN=Plain", &pki.ca, {0x08}, kT0, kT0 + kYear, plain);
  o.required_eku = {"serverAuth"};
  EXPECT_TRUE(Verify(leaf.cert, o).valid);

  // anyExtendedKeyUsage does not stand in for a required purpose.
  Extensions any = plain;
  any.extended_key_usage = {"anyExtendedKeyUsage"};
  Issued any_leaf = Issue("ed25519", "/C=VN/CN=Any", &pki.ca, {0x09}, kT0, kT0 + kYear, any);
  EXPECT_EQ(Verify(any_leaf.cert, o).error_id, "path.eku");

  o.required_eku = {"noSuchPurpose"};
  EXPECT_EQ(VerifyPath(pki.leaf.cert, o).status().id(), "path.bad_option");
}

TEST(Path, KeyUsage) {
  Pki pki;
  PathOptions o = pki.Options();
  o.required_key_usage = {"keyEncipherment"};
  EXPECT_EQ(Verify(pki.leaf.cert, o).error_id, "path.key_usage");
  o.required_key_usage = {"keyEncipherment", "contentCommitment"};
  EXPECT_TRUE(Verify(pki.leaf.cert, o).valid);
  o.required_key_usage = {"signEverything"};
  EXPECT_EQ(VerifyPath(pki.leaf.cert, o).status().id(), "path.bad_option");
}

TEST(Path, PeerName) {
  Pki pki;
  PathOptions o = pki.Options();
  o.dns_name = "sign.example.vn";
  EXPECT_TRUE(Verify(pki.leaf.cert, o).valid);
  o.dns_name = "other.example.vn";
  PathResult r = Verify(pki.leaf.cert, o);
  EXPECT_EQ(r.error_id, "path.name_mismatch");
  EXPECT_EQ(r.depth, 0);
  o.dns_name.reset();
  o.ip_address = "10.0.0.1";
  EXPECT_EQ(Verify(pki.leaf.cert, o).error_id, "path.name_mismatch");
  o.ip_address = "not an address";
  EXPECT_EQ(VerifyPath(pki.leaf.cert, o).status().id(), "path.bad_option");
}

}  // namespace
}  // namespace kyso::x509
