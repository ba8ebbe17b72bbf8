#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/cookies.h"
#include "auth/password.h"
#include "auth/rate_limiter.h"
#include "auth/tokens.h"
#include "base/clock.h"
#include "crypto/random.h"

namespace kyso::auth {
namespace {

const PasswordCost kCost = PasswordCost::ForTests();

// --- Passwords -------------------------------------------------------------------------------

TEST(PasswordTest, HashVerifyRoundTrip) {
  auto hash = HashPassword("Mật khẩu của tôi 2026!", kCost);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << *hash;

  auto ok = VerifyPassword(*hash, "Mật khẩu của tôi 2026!");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(*ok);

  auto wrong = VerifyPassword(*hash, "Mật khẩu của tôi 2026?");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
  wrong = VerifyPassword(*hash, "");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
}

TEST(PasswordTest, SaltMakesEveryHashDifferent) {
  auto a = HashPassword("correct horse battery staple", kCost);
  auto b = HashPassword("correct horse battery staple", kCost);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(*VerifyPassword(*b, "correct horse battery staple"));
}

TEST(PasswordTest, EmbeddedNulIsPartOfThePassword) {
  const std::string with_nul("abc\0def", 7);
  auto hash = HashPassword(with_nul, kCost);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(*VerifyPassword(*hash, with_nul));
  EXPECT_FALSE(*VerifyPassword(*hash, "abc"));
}

TEST(PasswordTest, MalformedHashIsBadHash) {
  auto good = HashPassword("whatever password", kCost);
  ASSERT_TRUE(good.ok());
  const std::vector<std::string> malformed = {
      std::string(),
      std::string("plaintext"),
      std::string("$argon2id$"),
      std::string("$argon2id$v=19$m=8,t=1,p=1$!!!!$????"),
      // Truncated: 37 of the hash's 43 base64 characters, a length (1 mod 4) that no base64
      // text has. (Cutting 5 left 38, valid 1 time in 16: the test was flaky.)
      good->substr(0, good->size() - 6),
      "$argon2i$" + good->substr(10),                                  // another algorithm
      "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",  // bcrypt
      *good + std::string(200, 'A'),                                   // too long
      std::string("$argon2id$v=19$m=8,t=1,p=1\0$", 28),
      // Well-formed, but asks for 4 GiB per verification.
      "$argon2id$v=19$m=4194304,t=1,p=1$" + good->substr(good->find("p=1$") + 4),
  };
  for (const std::string& bad : malformed) {
    auto res = VerifyPassword(bad, "whatever password");
    ASSERT_FALSE(res.ok()) << bad;
    EXPECT_EQ(res.status().id(), "auth.bad_hash") << bad;
    EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(PasswordTest, BadCostIsRefused) {
  auto res = HashPassword("whatever password", PasswordCost{0, 8192});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().id(), "auth.bad_cost");
  res = HashPassword("whatever password", PasswordCost{1, 1024});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().id(), "auth.bad_cost");
}

TEST(PasswordTest, NeedsRehash) {
  auto hash = HashPassword("whatever password", kCost);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(NeedsRehash(*hash, kCost));
  EXPECT_TRUE(NeedsRehash(*hash, PasswordCost::Interactive()));
  EXPECT_TRUE(NeedsRehash(*hash, PasswordCost{2, kCost.memlimit}));
  EXPECT_TRUE(NeedsRehash("garbage", kCost));
  EXPECT_TRUE(NeedsRehash("$argon2i$" + hash->substr(10), kCost));
}

TEST(PasswordTest, CostsAreLibsodiumLevels) {
  EXPECT_EQ(PasswordCost::Interactive().opslimit, 2u);
  EXPECT_EQ(PasswordCost::Interactive().memlimit, 64u << 20);
  EXPECT_EQ(PasswordCost::ForTests().opslimit, 1u);
  EXPECT_EQ(PasswordCost::ForTests().memlimit, 8192u);
}

TEST(PasswordTest, DummyVerificationRunsWithoutAHash) {
  // Nothing to observe but that it returns; with the cheap cost the hash is made on first use.
  VerifyDummyPassword("some guess", kCost);
  VerifyDummyPassword("another guess", kCost);
}

TEST(PasswordTest, DummyInteractiveHashIsWellFormed) {
  // The constant behind VerifyDummyPassword(Interactive()) must stay a valid hash of that cost,
  // or unknown-user logins would return fast. NeedsRehash is false only for a decodable
  // Argon2id string of exactly that cost.
  const std::string dummy =
      "$argon2id$v=19$m=65536,t=2,p=1$ErkNDXAuH1vzDtfng1vzmw$"
      "TU8I83fhKoO4MerE1A6qLq+cSntf+QtX/IwswojPIiE";
  EXPECT_FALSE(NeedsRehash(dummy, PasswordCost::Interactive()));
}

TEST(PasswordPolicyTest, AcceptsLongOrMixed) {
  EXPECT_TRUE(CheckPasswordPolicy("correct horse battery staple").ok());
  EXPECT_TRUE(CheckPasswordPolicy("Tr0ub4dor&3xy").ok());
  EXPECT_TRUE(CheckPasswordPolicy("motdaimatkhaurathay").ok());  // 19 letters: long enough
  EXPECT_TRUE(CheckPasswordPolicy("Hà Nội mùa thu 1945").ok());
  EXPECT_TRUE(CheckPasswordPolicy("abababab1212abab").ok());  // 4 distinct, 2 kinds
}

TEST(PasswordPolicyTest, RefusesWeakWithExactId) {
  const std::vector<std::string> weak = {
      "short1!",                             // 7 characters
      "Mậtkhẩu1",                            // 8 characters, more bytes than that
      "aaaaaaaaaaaaaaaaaaaa",                // one character repeated
      "123456789012",                        // digits only, under 16
      "abcdefghijkl",                        // letters only, under 16
      "pass\x01word12345",                   // control character
      std::string("\xff\xfe password 123"),  // not UTF-8
      std::string(2000, 'x') + "1!",         // too long
  };
  for (const std::string& password : weak) {
    const Status st = CheckPasswordPolicy(password);
    EXPECT_EQ(st.id(), "auth.weak_password") << password.substr(0, 40);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(CheckPasswordPolicy("abcabcabcabcabcabc").id(), "auth.weak_password");  // 3 distinct
  // ngàymaitrờinắng is 15 letters, one class: refused below 16.
  EXPECT_EQ(CheckPasswordPolicy("ngàymaitrờinắng").id(), "auth.weak_password");
}

// --- Tokens ----------------------------------------------------------------------------------

TEST(TokenTest, FormatAndUniqueness) {
  crypto::SystemRng rng;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string token = NewSecretToken(rng);
    ASSERT_EQ(token.size(), 43u) << token;  // 32 bytes, base64url, no padding
    for (char c : token) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << token;
    }
    EXPECT_TRUE(seen.insert(token).second);
  }
  const std::string api = NewSecretToken(rng, kApiTokenPrefix);
  EXPECT_TRUE(api.starts_with("kyso_"));
  EXPECT_EQ(api.size(), 5u + 43u);
}

TEST(TokenTest, DeterministicWithTestRng) {
  crypto::TestRng a(7), b(7);
  EXPECT_EQ(NewSecretToken(a), NewSecretToken(b));
}

TEST(TokenTest, HashIsLowerHexSha256AndStable) {
  // SHA-256("abc"), FIPS 180-4 example.
  EXPECT_EQ(TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(TokenHash("kyso_x"), TokenHash("kyso_x"));
  EXPECT_NE(TokenHash("kyso_x"), TokenHash("kyso_y"));
  EXPECT_EQ(TokenHash("").size(), 64u);
}

TEST(TokenTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abcdef", "abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcdeg"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcde"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
  crypto::TestRng rng(1);
  const std::string token = NewSecretToken(rng, kApiTokenPrefix);
  EXPECT_TRUE(TokenMatchesHash(token, TokenHash(token)));
  EXPECT_FALSE(TokenMatchesHash(token + "x", TokenHash(token)));
  EXPECT_FALSE(TokenMatchesHash("", TokenHash("")));
  EXPECT_FALSE(TokenMatchesHash(token, ""));
}

// --- Rate limiting ---------------------------------------------------------------------------

constexpr UnixSeconds kT0 = 1'780'000'000;

TEST(RateLimiterTest, FiveUserFailuresThenRefusedUntilTheWindowClears) {
  FixedClock clock(kT0);
  LoginRateLimiter limiter(&clock);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(limiter.Check("an", "10.0.0.1").ok()) << i;
    limiter.RecordFailure("an", "10.0.0.1");
    clock.Advance(10);
  }
  // Failures at T0, T0+10, ..., T0+40; now T0+50.
  int64_t retry = -1;
  Status st = limiter.Check("an", "10.0.0.2", &retry);  // another address: still refused
  EXPECT_EQ(st.id(), "auth.rate_limited");
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(retry, 900 - 50);
  EXPECT_NE(st.message().find("850 seconds"), std::string::npos) << st.message();
  // Other users from the same address are not affected.
  EXPECT_TRUE(limiter.Check("binh", "10.0.0.1").ok());

  clock.Set(kT0 + 899);
  EXPECT_EQ(limiter.Check("an", "10.0.0.1", &retry).id(), "auth.rate_limited");
  EXPECT_EQ(retry, 1);
  // The oldest failure leaves the window: one more attempt is allowed.
  clock.Set(kT0 + 900);
  EXPECT_TRUE(limiter.Check("an", "10.0.0.1", &retry).ok());
  EXPECT_EQ(retry, 0);
  limiter.RecordFailure("an", "10.0.0.1");
  EXPECT_EQ(limiter.Check("an", "10.0.0.1", &retry).id(), "auth.rate_limited");
  EXPECT_EQ(retry, 10);  // until the failure at T0+10 is 15 minutes old
  // After a quiet window everything is forgotten.
  clock.Set(kT0 + 900 + 900);
  EXPECT_TRUE(limiter.Check("an", "10.0.0.1").ok());
}

TEST(RateLimiterTest, PerAddressLimitAcrossUsernames) {
  FixedClock clock(kT0);
  LoginRateLimiter limiter(&clock);
  for (int i = 0; i < 20; ++i) {
    const std::string user = "user" + std::to_string(i);
    ASSERT_TRUE(limiter.Check(user, "203.0.113.9").ok()) << i;
    limiter.RecordFailure(user, "203.0.113.9");
  }
  int64_t retry = 0;
  const Status st = limiter.Check("fresh", "203.0.113.9", &retry);
  EXPECT_EQ(st.id(), "auth.rate_limited");
  EXPECT_EQ(retry, 900);
  EXPECT_NE(st.message().find("this address"), std::string::npos) << st.message();
  EXPECT_TRUE(limiter.Check("fresh", "203.0.113.10").ok());
  // A success does not reset the address.
  limiter.RecordSuccess("fresh", "203.0.113.9");
  EXPECT_EQ(limiter.Check("fresh", "203.0.113.9").id(), "auth.rate_limited");
  clock.Advance(900);
  EXPECT_TRUE(limiter.Check("fresh", "203.0.113.9").ok());
}

TEST(RateLimiterTest, SuccessClearsTheUsersFailures) {
  FixedClock clock(kT0);
  LoginRateLimiter limiter(&clock);
  for (int i = 0; i < 4; ++i) limiter.RecordFailure("chi", "10.0.0.1");
  limiter.RecordSuccess("chi", "10.0.0.1");
  for (int i = 0; i < 4; ++i) limiter.RecordFailure("chi", "10.0.0.1");
  EXPECT_TRUE(limiter.Check("chi", "10.0.0.1").ok());  // 4, not 8
  limiter.RecordFailure("chi", "10.0.0.1");
  EXPECT_EQ(limiter.Check("chi", "10.0.0.1").id(), "auth.rate_limited");
  limiter.RecordSuccess("chi", "10.0.0.1");
  EXPECT_TRUE(limiter.Check("chi", "10.0.0.1").ok());
}

TEST(RateLimiterTest, MemoryIsBounded) {
  FixedClock clock(kT0);
  RateLimitPolicy policy;
  policy.max_tracked_keys = 100;
  LoginRateLimiter limiter(&clock, policy);
  for (int i = 0; i < 1000; ++i) {
    limiter.RecordFailure("u" + std::to_string(i), "ip" + std::to_string(i));
    clock.Advance(1);
  }
  EXPECT_EQ(limiter.tracked_users(), 100u);
  EXPECT_EQ(limiter.tracked_ips(), 100u);
  // Keys whose failures left the window are dropped as new ones arrive.
  clock.Advance(policy.window_seconds);
  limiter.RecordFailure("late", "late-ip");
  EXPECT_EQ(limiter.tracked_users(), 1u);
  EXPECT_EQ(limiter.tracked_ips(), 1u);
}

TEST(RateLimiterTest, ClockSetBackNeverBlocksLongerThanAWindow) {
  FixedClock clock(kT0);
  LoginRateLimiter limiter(&clock);
  for (int i = 0; i < 5; ++i) limiter.RecordFailure("dung", "10.0.0.1");
  clock.Set(kT0 - 3600);
  int64_t retry = 0;
  EXPECT_EQ(limiter.Check("dung", "10.0.0.1", &retry).id(), "auth.rate_limited");
  EXPECT_EQ(retry, 900);
}

TEST(RateLimiterTest, ConcurrentUse) {
  FixedClock clock(kT0);
  LoginRateLimiter limiter(&clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string user = "u" + std::to_string(t) + "-" + std::to_string(i % 7);
        (void)limiter.Check(user, "10.0.0." + std::to_string(t));
        limiter.RecordFailure(user, "10.0.0." + std::to_string(t));
        if (i % 5 == 0) limiter.RecordSuccess(user, "10.0.0." + std::to_string(t));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(limiter.tracked_ips(), 4u);
  EXPECT_EQ(limiter.Check("x", "10.0.0.0").id(), "auth.rate_limited");
}

// --- Cookies and CSRF ------------------------------------------------------------------------

TEST(CookieTest, ParsesTheRfc6265Syntax) {
  auto c = ParseCookies("kyso_session=abc-DEF_123; theme=dark");
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c["kyso_session"], "abc-DEF_123");
  EXPECT_EQ(c["theme"], "dark");
}

TEST(CookieTest, ToleratesSpacingQuotesAndJunk) {
  auto c = ParseCookies("  a=1 ;b=2;\tc = 3 ; ; noequals; =nameless; d=\"quoted\"; e=; f=x=y");
  EXPECT_EQ(c["a"], "1");
  EXPECT_EQ(c["b"], "2");
  EXPECT_EQ(c["c"], "3");
  EXPECT_EQ(c["d"], "quoted");
  EXPECT_EQ(c.count("e"), 1u);
  EXPECT_EQ(c["e"], "");
  EXPECT_EQ(c["f"], "x=y");  // '=' is a cookie-octet
  EXPECT_EQ(c.count("noequals"), 0u);
  EXPECT_EQ(c.count(""), 0u);
  EXPECT_EQ(c.size(), 6u);
}

TEST(CookieTest, SkipsMalformedPairsOnly) {
  auto c = ParseCookies(
      "bad name=1; ok=1; bad=has space; bad2=back\\slash; bad3=\"unterminated; "
      "bad4=a,b; nonascii=\xc3\xa0; good=2");
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c["ok"], "1");
  EXPECT_EQ(c["good"], "2");
}

TEST(CookieTest, FirstOfARepeatedNameWins) {
  auto c = ParseCookies("s=specific; s=general");
  EXPECT_EQ(c["s"], "specific");
  EXPECT_TRUE(ParseCookies("").empty());
  EXPECT_TRUE(ParseCookies(";;;").empty());
}

TEST(CookieTest, SessionCookieAttributes) {
  EXPECT_EQ(SessionCookie("__Host-kyso_session", "tok", 3600, true),
            "__Host-kyso_session=tok; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(SessionCookie("kyso_session", "tok", 60, false),
            "kyso_session=tok; Path=/; Max-Age=60; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionCookieName(true), "__Host-kyso_session");
  EXPECT_EQ(SessionCookieName(false), "kyso_session");
  EXPECT_EQ(ClearingCookie("__Host-kyso_session", true),
            "__Host-kyso_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
  // Nothing can be smuggled into the header.
  EXPECT_EQ(SessionCookie("s", "x\r\nSet-Cookie: evil=1", 60, true), "");
  EXPECT_EQ(SessionCookie("s;x", "v", 60, true), "");
  EXPECT_EQ(SessionCookie("", "v", 60, true), "");
  EXPECT_EQ(SessionCookie("s", "v", -5, true).find("Max-Age=0;") != std::string::npos, true);
  // What NewSecretToken makes always fits, and round-trips through the parser.
  crypto::TestRng rng(3);
  const std::string token = NewSecretToken(rng);
  const std::string set = SessionCookie(kSecureSessionCookie, token, 600, true);
  ASSERT_FALSE(set.empty());
  EXPECT_EQ(ParseCookies(set.substr(0, set.find(';')))[std::string(kSecureSessionCookie)], token);
}

TEST(CsrfTest, MatchAndMismatch) {
  crypto::TestRng rng(5);
  const std::string csrf = NewSecretToken(rng);
  const std::string stored = TokenHash(csrf);
  EXPECT_TRUE(CsrfMatches(csrf, stored));
  EXPECT_FALSE(CsrfMatches(NewSecretToken(rng), stored));
  EXPECT_FALSE(CsrfMatches(csrf.substr(1), stored));
  EXPECT_FALSE(CsrfMatches("", stored));
  EXPECT_FALSE(CsrfMatches(csrf, ""));
  EXPECT_FALSE(CsrfMatches(stored, stored));  // the hash itself is not the token
}

}  // namespace
}  // namespace kyso::auth
