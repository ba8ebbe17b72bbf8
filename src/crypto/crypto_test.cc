#include <gtest/gtest.h>

#include "crypto/digest.h"
#include "crypto/key.h"
#include "crypto/random.h"
#include "crypto/signer.h"

namespace kyso::crypto {
namespace {

TEST(KeySpec, ParsesKnownAndRefusesOthers) {
  EXPECT_EQ(KeySpec::Parse("RSA:3072")->bits, 3072);
  EXPECT_EQ(KeySpec::Parse("ec:P-384")->curve, "P-384");
  EXPECT_EQ(KeySpec::Parse("ed25519")->algorithm, KeyAlgorithm::kEd25519);
  EXPECT_EQ(KeySpec::Parse("rsa:1024").status().id(), "key.spec_invalid");
  EXPECT_EQ(KeySpec::Parse("ec:P-521").status().id(), "key.spec_invalid");
}

TEST(Digest, KnownAnswer) {
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  Hasher h(DigestAlgorithm::kSha384);
  h.Update(AsBytes("a"));
  h.Update(AsBytes("bc"));
  EXPECT_EQ(h.Finish(), Digest(DigestAlgorithm::kSha384, AsBytes("abc")));
}

class SignerTest : public ::testing::TestWithParam<std::tuple<const char*, RsaPadding>> {};

TEST_P(SignerTest, SignsAndVerifiesEveryKeyType) {
  auto [spec_text, padding] = GetParam();
  KeySpec spec = *KeySpec::Parse(spec_text);
  auto key = PrivateKey::Generate(spec);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->spec(), spec);
  SoftwareSigner signer(*key, "test");
  SignatureScheme scheme = SignatureScheme::DefaultFor(spec, padding);
  auto sig = signer.SignMessage(scheme, AsBytes("văn bản"));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(VerifyMessage(signer.public_key(), scheme, AsBytes("văn bản"), *sig).ok());
  EXPECT_EQ(VerifyMessage(signer.public_key(), scheme, AsBytes("van ban"), *sig).id(),
            "signature.invalid");
}

INSTANTIATE_TEST_SUITE_P(AllKeys, SignerTest,
                         ::testing::Values(std::make_tuple("rsa:2048", RsaPadding::kPkcs1v15),
                                           std::make_tuple("rsa:2048", RsaPadding::kPss),
                                           std::make_tuple("ec:P-256", RsaPadding::kPkcs1v15),
                                           std::make_tuple("ec:P-384", RsaPadding::kPkcs1v15),
                                           std::make_tuple("ed25519", RsaPadding::kPkcs1v15)));

TEST(Signer, DigestSigningRefusedForEd25519) {
  SoftwareSigner signer(*PrivateKey::Generate(*KeySpec::Parse("ed25519")), "t");
  auto sig = signer.SignDigest(SignatureScheme{}, Sha256(AsBytes("x")));
  EXPECT_EQ(sig.status().id(), "signer.digest_unsupported");
}

TEST(EncryptedPkcs8, RoundTripAndWrongPassphrase) {
  auto key = *PrivateKey::Generate(*KeySpec::Parse("ec:P-256"));
  auto pem = key.ToEncryptedPkcs8Pem("đúng mật khẩu", 1000);
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  EXPECT_NE(pem->find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  auto back = PrivateKey::FromEncryptedPkcs8Pem(*pem, "đúng mật khẩu");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->public_key().Equals(key.public_key()));
  EXPECT_EQ(PrivateKey::FromEncryptedPkcs8Pem(*pem, "sai mật khẩu").status().id(),
            "key.wrong_passphrase");
  EXPECT_EQ(key.ToEncryptedPkcs8Pem("short").status().id(), "key.passphrase_too_short");
}

// A wrong passphrase gives valid CBC padding about 1 time in 256; the decode of the garbage
// then fails, and that must still read as a wrong passphrase (it made ca_cli flaky).
TEST(EncryptedPkcs8, EveryWrongPassphraseIsWrongPassphrase) {
  auto key = PrivateKey::Generate(*KeySpec::Parse("ec:P-256")).value();
  auto pem = key.ToEncryptedPkcs8Pem("đúng mật khẩu", 1000);
  ASSERT_TRUE(pem.ok());
  for (int i = 0; i < 1500; ++i) {
    auto result = PrivateKey::FromEncryptedPkcs8Pem(*pem, "sai " + std::to_string(i));
    ASSERT_EQ(result.status().id(), "key.wrong_passphrase")
        << i << ": " << result.status().ToString();
  }
  std::string damaged = *pem;
  damaged.replace(damaged.find('\n') + 1, 8, "AAAAAAAA");
  EXPECT_EQ(PrivateKey::FromEncryptedPkcs8Pem(damaged, "đúng mật khẩu").status().id(),
            "key.malformed");
}

TEST(EncryptedPkcs8, PlaintextKeyRefusedWhereEncryptionIsRequired) {
  EXPECT_EQ(PrivateKey::FromEncryptedPkcs8Pem("-----BEGIN PRIVATE KEY-----\n", "x").status().id(),
            "key.not_encrypted");
}

TEST(PublicKey, SpkiRoundTripAndFingerprint) {
  auto key = *PrivateKey::Generate(*KeySpec::Parse("ec:P-256"));
  auto pub = PublicKey::FromSpkiDer(key.public_key().SpkiDer());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->Fingerprint(), key.public_key().Fingerprint());
  EXPECT_EQ(pub->Fingerprint().size(), 64u);
  EXPECT_EQ(key.public_key().KeyIdentifier().size(), 20u);
  Bytes junk = {0x30, 0x03, 0x02, 0x01};
  EXPECT_EQ(PublicKey::FromSpkiDer(junk).status().id(), "key.malformed");
}

TEST(Random, TestRngIsDeterministic) {
  TestRng a(42), b(42);
  EXPECT_EQ(a.Generate(32), b.Generate(32));
  SystemRng sys;
  EXPECT_NE(sys.Generate(20), sys.Generate(20));
  TestRng c(7);
  EXPECT_EQ(GeneratePassphrase(c).size(), 32u);
}

}  // namespace
}  // namespace kyso::crypto

#include <cstdlib>

#include "crypto/key_store.h"
#include "testlib/temp_dir.h"

namespace kyso::crypto {
namespace {

TEST(FileKeyStore, EncryptsAsksOnceAndRefusesOverwrite) {
  testlib::TempDir dir;
  int asked = 0;
  FileKeyStore store(
      dir.path(),
      [&]() -> Result<std::string> {
        ++asked;
        return std::string("mật khẩu dài đủ");
      },
      1000);
  auto key = *PrivateKey::Generate(*KeySpec::Parse("ec:P-256"));
  auto ref = store.Save("issuing", key);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(*ref, "file:keys/issuing.key.pem");
  EXPECT_EQ(store.Save("issuing", key).status().id(), "keystore.exists");
  EXPECT_EQ(store.Save("../evil", key).status().id(), "keystore.bad_name");
  FileKeyStore reopened(
      dir.path(),
      [&]() -> Result<std::string> {
        ++asked;
        return std::string("mật khẩu dài đủ");
      },
      1000);
  auto signer = reopened.Load(*ref);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_TRUE((*signer)->public_key().Equals(key.public_key()));
  EXPECT_EQ(asked, 2);  // once per store, not once per key
  FileKeyStore wrong(
      dir.path(), []() -> Result<std::string> { return std::string("sai mật khẩu"); }, 1000);
  EXPECT_EQ(wrong.Load(*ref).status().id(), "key.wrong_passphrase");
  EXPECT_EQ(wrong.Load("file:keys/none.key.pem").status().id(), "keystore.missing");
  EXPECT_EQ(wrong.Load("mem:issuing").status().id(), "keystore.unsupported_ref");
  // Keys on tokens (kyso init --hsm) are opened through PKCS#11; this one names no module.
  ::unsetenv("KYSO_PKCS11_MODULE");
  EXPECT_EQ(wrong.Load("pkcs11:token=x;object=k").status().id(), "pkcs11.module_unspecified");
}

}  // namespace
}  // namespace kyso::crypto
