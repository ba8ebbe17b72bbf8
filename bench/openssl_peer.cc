#include "openssl_peer.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "bench_support.h"

namespace kyso::bench {

namespace {

// index.txt dates: UTCTime "YYMMDDHHMMSSZ" (what openssl ca itself writes before 2050).
std::string UtcTime(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return buf;
}

// The compromise time of a "keyTime" revocation is a GeneralizedTime.
std::string GeneralizedTime(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

// openssl ca's names for RFC 5280 CRLReason codes in index.txt (apps/ca.c crl_reasons[]).
const char* ReasonName(int reason) {
  switch (reason) {
    case 1:
      return "keyCompromise";
    case 2:
      return "CACompromise";
    case 3:
      return "affiliationChanged";
    case 4:
      return "superseded";
    case 5:
      return "cessationOfOperation";
    case 9:
      return "privilegeWithdrawn";
    default:
      return "unspecified";
  }
}

// The extensions mirror the built-in `individual` profile (config/profiles.json) and the URLs
// kyso puts into certificates and CRLs with its default PublicationSettings.
std::string Config(const std::string& dir) {
  return R"([ ca ]
default_ca = peer_ca

[ peer_ca ]
dir = )" +
         dir + R"(
database = $dir/index.txt
new_certs_dir = $dir/certs
certificate = $dir/ca.pem
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
rand_serial = yes
default_md = sha256
default_days = 1095
default_crl_days = 1
policy = policy_individual
unique_subject = no
preserve = yes
email_in_dn = no
copy_extensions = none
x509_extensions = subscriber_ext
crl_extensions = crl_ext
string_mask = utf8only
utf8 = yes

[ policy_individual ]
countryName = match
organizationName = optional
commonName = supplied
UID = supplied

[ subscriber_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = 1.3.6.1.5.5.7.3.36, emailProtection, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = 2.16.704.1.99.1.1
authorityInfoAccess = OCSP;URI:http://127.0.0.1:8080/ocsp, caIssuers;URI:http://127.0.0.1:8080/ca/issuing.crt
crlDistributionPoints = URI:http://127.0.0.1:8080/crl/issuing.crl

[ crl_ext ]
authorityKeyIdentifier = keyid
freshestCRL = URI:http://127.0.0.1:8080/crl/issuing-delta.crl

[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes

[ req_dn ]

[ issuing_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
)";
}

}  // namespace

OpensslCa::OpensslCa(std::string openssl, std::string dir, const std::string& key_spec)
    : openssl_(std::move(openssl)), dir_(std::move(dir)) {
  config_ = dir_ + "/openssl.cnf";
  log_ = dir_ + "/openssl-stderr.log";
  std::filesystem::create_directories(dir_ + "/certs");
  WriteFile(config_, Config(dir_));
  WriteFile(dir_ + "/index.txt", "");
  WriteFile(dir_ + "/serial", "01\n");
  WriteFile(dir_ + "/crlnumber", "01\n");
  std::vector<std::string> newkey;
  if (key_spec == "ec:P-256") {
    newkey = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"};
  } else if (key_spec == "rsa:3072") {
    newkey = {"-newkey", "rsa:3072"};
  } else {
    Die("openssl peer", "unsupported key " + key_spec);
  }
  std::vector<std::string> cmd = {openssl_, "req", "-x509", "-new"};
  cmd.insert(cmd.end(), newkey.begin(), newkey.end());
  std::vector<std::string> rest = {
      "-nodes",         "-keyout",
      dir_ + "/ca.key", "-out",
      dir_ + "/ca.pem", "-days",
      "3650",           "-utf8",
      "-config",        config_,
      "-extensions",    "issuing_ca",
      "-subj",          "/C=VN/O=Ban Cơ yếu Chính phủ/CN=openssl ca peer " + key_spec};
  cmd.insert(cmd.end(), rest.begin(), rest.end());
  RunProcess(cmd, log_);
}

std::vector<std::string> OpensslCa::BaseCommand() const {
  return {openssl_, "ca", "-batch", "-notext", "-config", config_};
}

void OpensslCa::ResetIndex() {
  WriteFile(dir_ + "/index.txt", "");
  std::error_code ec;
  std::filesystem::remove(dir_ + "/index.txt.attr", ec);
  std::filesystem::remove(dir_ + "/index.txt.old", ec);
  std::filesystem::remove(dir_ + "/index.txt.attr.old", ec);
  std::filesystem::remove_all(dir_ + "/certs", ec);
  std::filesystem::create_directories(dir_ + "/certs");
}

void OpensslCa::PrefillIndex(int rows) {
  std::ofstream out(dir_ + "/index.txt", std::ios::app);
  int64_t expiry = static_cast<int64_t>(std::time(nullptr)) + 1095 * 86400LL;
  std::string not_after = UtcTime(expiry);
  char serial[48];
  for (int i = 0; i < rows; ++i) {
    // Distinct from rand_serial output, whose top bit is clear: these start with F.
    std::snprintf(serial, sizeof serial, "F%039X", i);
    out << "V\t" << not_after << "\t\t" << serial << "\tunknown\t/C=VN/O=Bo Tai chinh/CN=Prefill "
        << i << "/UID=CCCD:002" << 100000000 + i << "\n";
  }
}

void OpensslCa::WriteRevokedIndex(const std::vector<PeerRevoked>& entries) {
  std::ofstream out(dir_ + "/index.txt", std::ios::trunc);
  for (const auto& e : entries) {
    std::string revocation = UtcTime(e.revoked_at);
    if (e.reason == 1 && e.invalidity_date != 0) {
      // "keyTime" is openssl ca's pseudo-reason for keyCompromise with an invalidityDate.
      revocation += ",keyTime," + GeneralizedTime(e.invalidity_date);
    } else if (e.reason != 0) {
      revocation += std::string(",") + ReasonName(e.reason);
    }
    out << "R\t" << UtcTime(e.not_after) << "\t" << revocation << "\t" << e.serial_hex
        << "\tunknown\t/C=VN/CN=x\n";
  }
}

OpensslCa::Timing OpensslCa::IssuePerProcess(const std::vector<std::string>& csr_files) {
  Timing t;
  for (const auto& csr : csr_files) {
    std::vector<std::string> cmd = BaseCommand();
    cmd.insert(cmd.end(), {"-in", csr, "-out", dir_ + "/issued.pem"});
    t.wall += RunProcess(cmd, log_, &t.cpu);
  }
  return t;
}

OpensslCa::Timing OpensslCa::IssueInOneProcess(const std::vector<std::string>& csr_files) {
  std::vector<std::string> cmd = BaseCommand();
  cmd.insert(cmd.end(), {"-out", dir_ + "/issued-all.pem", "-infiles"});
  cmd.insert(cmd.end(), csr_files.begin(), csr_files.end());
  Timing t;
  t.wall = RunProcess(cmd, log_, &t.cpu);
  return t;
}

OpensslCa::Timing OpensslCa::GenerateCrl() {
  Timing t;
  t.wall = RunProcess({openssl_, "ca", "-gencrl", "-config", config_, "-out", dir_ + "/crl.pem"},
                      log_, &t.cpu);
  return t;
}

void OpensslCa::InspectCrl(size_t* der_bytes, int* entries) const {
  *der_bytes = 0;
  *entries = 0;
  std::string pem = ReadFile(dir_ + "/crl.pem");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (crl == nullptr) Die("openssl peer", "cannot read " + dir_ + "/crl.pem");
  int len = i2d_X509_CRL(crl, nullptr);
  *der_bytes = len > 0 ? static_cast<size_t>(len) : 0;
  *entries = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
  X509_CRL_free(crl);
}

}  // namespace kyso::bench
