#include "http/static_site.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "http/router.h"
#include "testlib/temp_dir.h"

namespace kyso::http {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string HeaderOf(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

Request Get(std::string path, std::string accept_encoding = "") {
  Request req;
  req.path = std::move(path);
  if (!accept_encoding.empty()) req.headers.emplace_back("accept-encoding", accept_encoding);
  return req;
}

class PortalStaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.File("dist");
    mkdir(root_.c_str(), 0755);
    mkdir((root_ + "/assets").c_str(), 0755);
    Write(root_ + "/index.html", "<!doctype html><title>kyso</title>");
    Write(root_ + "/assets/index-abc123.js", "console.log(1)");
    Write(root_ + "/assets/index-abc123.js.gz", "GZIPPED");
    Write(root_ + "/assets/index-abc123.css", "body{}");
    Write(root_ + "/favicon.svg", "<svg/>");
    Write(dir_.File("secret.txt"), "top secret");
    auto site = StaticSite::Open(root_);
    ASSERT_TRUE(site.ok()) << site.status().ToString();
    site_.emplace(std::move(*site));
  }
  testlib::TempDir dir_;
  std::string root_;
  std::optional<StaticSite> site_;
};

TEST_F(PortalStaticSiteTest, IndexIsNoCacheWithSecurityHeaders) {
  Response r = site_->Serve(Get("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<!doctype html><title>kyso</title>");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
  const std::string csp = HeaderOf(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
}

TEST_F(PortalStaticSiteTest, AssetsAreImmutableAndTyped) {
  Response r = site_->Serve(Get("/assets/index-abc123.css"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_FALSE(HeaderOf(r, "Content-Security-Policy").empty());
  r = site_->Serve(Get("/favicon.svg"));
  EXPECT_EQ(r.content_type, "image/svg+xml");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
}

TEST_F(PortalStaticSiteTest, GzipSiblingOnlyWhenAccepted) {
  Response plain = site_->Serve(Get("/assets/index-abc123.js"));
  EXPECT_EQ(plain.body, "console.log(1)");
  EXPECT_EQ(HeaderOf(plain, "Content-Encoding"), "");
  EXPECT_EQ(plain.content_type, "text/javascript; charset=utf-8");
  Response gz = site_->Serve(Get("/assets/index-abc123.js", "br, gzip, deflate"));
  EXPECT_EQ(gz.body, "GZIPPED");
  EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(gz, "Vary"), "Accept-Encoding");
  Response refused = site_->Serve(Get("/assets/index-abc123.js", "gzip;q=0, identity"));
  EXPECT_EQ(refused.body, "console.log(1)");
  // No sibling: the plain file, even when gzip is welcome.
  Response css = site_->Serve(Get("/assets/index-abc123.css", "gzip"));
  EXPECT_EQ(css.body, "body{}");
  EXPECT_EQ(HeaderOf(css, "Content-Encoding"), "");
}

TEST_F(PortalStaticSiteTest, ClientRoutesFallBackButAssetsAndApiDoNot) {
  Response route = site_->Serve(Get("/requests/42"));
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, "<!doctype html><title>kyso</title>");
  EXPECT_EQ(HeaderOf(route, "Cache-Control"), "no-cache");
  EXPECT_EQ(site_->Serve(Get("/assets/missing-000.js")).status, 404);
  for (const char* reserved : {"/api/v1/nope", "/api", "/ocsp", "/crl/x.crl", "/tsa", "/certs/a",
                               "/ca/x.crt", "/healthz", "/metrics"}) {
    Response r = site_->Serve(Get(reserved));
    EXPECT_EQ(r.status, 404) << reserved;
    EXPECT_NE(r.body.find("\"http.not_found\""), std::string::npos) << reserved;
  }
  // Reserved only on a segment boundary.
  EXPECT_EQ(site_->Serve(Get("/certificates")).status, 200);
  EXPECT_EQ(site_->Serve(Get("/apiary")).status, 200);
}

TEST_F(PortalStaticSiteTest, NoTraversalPlainEncodedOrBySymlink) {
  for (const char* bad : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                          "/%2E%2E%2Fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
                          "/..%5csecret.txt", "/a%00b", "/%zz", "/./index.html"}) {
    Response r = site_->Serve(Get(bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.body.find("top secret"), std::string::npos) << bad;
  }
  ASSERT_EQ(symlink(dir_.File("secret.txt").c_str(), (root_ + "/leak.txt").c_str()), 0);
  ASSERT_EQ(symlink(dir_.path().c_str(), (root_ + "/assets/up").c_str()), 0);
  Response leak = site_->Serve(Get("/leak.txt"));
  EXPECT_EQ(leak.status, 404);
  EXPECT_EQ(leak.body.find("top secret"), std::string::npos);
  Response up = site_->Serve(Get("/assets/up/secret.txt"));
  EXPECT_EQ(up.status, 404);
  EXPECT_EQ(up.body.find("top secret"), std::string::npos);
}

TEST_F(PortalStaticSiteTest, OpenNeedsIndex) {
  testlib::TempDir empty;
  EXPECT_EQ(StaticSite::Open(empty.path()).status().id(), "web.no_index");
  EXPECT_EQ(StaticSite::Open(empty.File("missing")).status().id(), "web.no_root");
}

TEST(PortalRouterFallbackTest, OnlyUnknownPathsAndItsMethods) {
  Router router;
  router.Add({"health", {Method::kGet}, "/healthz", 0, nullptr});
  router.Add({"crl", {Method::kGet}, "/crl/{file}", 0, nullptr});
  router.SetFallback({"portal", {Method::kGet}, "", 0, nullptr});
  std::vector<std::string> params;
  auto m = router.Find(Method::kGet, "/dashboard", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->name, "portal");
  EXPECT_TRUE(m.method_allowed);
  m = router.Find(Method::kHead, "/", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->name, "portal");
  // A known path keeps its own answer (405 for a wrong method), an unknown POST stays 404.
  m = router.Find(Method::kPost, "/healthz", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->name, "health");
  EXPECT_FALSE(m.method_allowed);
  EXPECT_FALSE(router.Find(Method::kPost, "/dashboard", &params).route);
  m = router.Find(Method::kGet, "/crl/x.crl", &params);
  EXPECT_EQ(m.route->name, "crl");
}

}  // namespace
}  // namespace kyso::http
