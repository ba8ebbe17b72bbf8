// Subscriber requests for the benchmarks: PKCS#10 made with OpenSSL's X509_REQ API directly
// (not with kyso's own code, so the input does not share kyso's assumptions), one fresh P-256
// key per request, with the subject of an individual subscriber of a ministry:
//
//   /C=VN/O=Bộ Tài chính/CN=Nguyễn Văn <i>/UID=CCCD:<12 digits, unique per i>
//
// which the built-in `individual` profile accepts.
//
// Thread-safety: the functions are independent of each other and may run concurrently.
#pragma once

#include <string>
#include <vector>

namespace kyso::bench {

// The CCCD number of subscriber `index`: province code 001 (Hà Nội), then digits unique per
// index. Always 12 digits.
std::string CccdNumber(int index);

// PEM "CERTIFICATE REQUEST" of subscriber `index`.
std::string MakeSubscriberCsrPem(int index);

// Subscribers first..first+count-1, generated on `threads` threads (generation is not timed,
// but 20,000 fresh keys take a while on one core).
std::vector<std::string> MakeSubscriberCsrs(int first, int count, int threads);

}  // namespace kyso::bench
