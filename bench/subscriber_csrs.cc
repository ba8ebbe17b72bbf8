#include "subscriber_csrs.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "bench_support.h"

namespace kyso::bench {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};

void AddName(X509_NAME* name, const char* type, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    Die("CSR subject", std::string("cannot add ") + type);
  }
}

}  // namespace

std::string CccdNumber(int index) {
  char digits[16];
  // 001 = Hà Nội, 0 = male born in the 20th century, then 8 digits from the index.
  std::snprintf(digits, sizeof digits, "0010%08d", index % 100000000);
  return digits;
}

std::string MakeSubscriberCsrPem(int index) {
  std::unique_ptr<EVP_PKEY, Free> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509_REQ, Free> req(X509_REQ_new());
  if (!key || !req) Die("CSR", "key generation failed");
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  AddName(name, "C", "VN");
  AddName(name, "O", "Bộ Tài chính");
  AddName(name, "CN", "Nguyễn Văn " + std::to_string(index));
  AddName(name, "UID", "CCCD:" + CccdNumber(index));
  X509_REQ_set_pubkey(req.get(), key.get());
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) Die("CSR", "signing failed");
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::vector<std::string> MakeSubscriberCsrs(int first, int count, int threads) {
  std::vector<std::string> out(static_cast<size_t>(count));
  if (threads < 1) threads = 1;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = t; i < count; i += threads) out[i] = MakeSubscriberCsrPem(first + i);
    });
  }
  for (auto& w : workers) w.join();
  return out;
}

}  // namespace kyso::bench
