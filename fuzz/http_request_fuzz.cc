// Fuzz target: what `kyso serve` does with the bytes of a request before a service sees them —
// Beast's HTTP/1.1 parser under the server's limits, our router, and the RFC 6960 Appendix A.1
// GET path decoding (percent-decoding, then base64 of either alphabet).
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>  // before Boost 1.74 Asio, whose awaitable.hpp needs std::exchange

#include "api/routes.h"
#include "http/router.h"

namespace {

const kyso::http::Router& TheRouter() {
  static const kyso::http::Router* router = [] {
    auto* r = new kyso::http::Router();
    // The real route table, with services that are never called here.
    static kyso::api::Services services;
    kyso::api::AddRoutes(*r, &services);
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bhttp = boost::beast::http;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  const auto& head = parser.get();
  const std::string_view target(head.target().data(), head.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  std::vector<std::string> params;
  auto match = TheRouter().Find(kyso::http::Method::kGet, path, &params);
  if (match.route && match.route->name == "ocsp_get") {
    if (params.size() != 1) std::abort();
    auto der = kyso::api::DecodeOcspGetPath(params[0]);
    if (der.ok() && der->size() > params[0].size()) std::abort();  // base64 never expands
  }
  return 0;
}
