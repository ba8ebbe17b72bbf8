#include "testlib/softhsm.h"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "testlib/shell.h"

namespace kyso::testlib {

namespace fs = std::filesystem;

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r')) s.pop_back();
  size_t start = s.find_first_not_of(' ');
  return start == std::string::npos ? "" : s.substr(start);
}

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.insert(e.path().filename());
  return names;
}

}  // namespace

SoftHsm& SoftHsm::Instance() {
  static SoftHsm* instance = new SoftHsm();
  return *instance;
}

SoftHsm::SoftHsm() {
  token_dir_ = dir_.File("tokens");
  fs::create_directories(token_dir_);
  std::string conf = dir_.File("softhsm2.conf");
  std::ofstream(conf) << "directories.tokendir = " << token_dir_
                      << "\nobjectstore.backend = file\nlog.level = ERROR\n"
                      << "slots.removable = false\n";
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
}

std::string SoftHsm::CreateToken(const std::string& label, const std::string& user_pin,
                                 const std::string& so_pin) {
  auto before = Entries(token_dir_);
  std::string out;
  if (Shell("softhsm2-util --init-token --free --label " + ShellQuote(label) + " --so-pin " +
                ShellQuote(so_pin) + " --pin " + ShellQuote(user_pin),
            &out) != 0) {
    return "";
  }
  // The slot number printed is not used: it changes; the serial does not.
  if (Shell("softhsm2-util --show-slots", &out) != 0) return "";
  std::istringstream lines(out);
  std::string line, serial, found;
  while (std::getline(lines, line)) {
    std::string t = Trim(line);
    if (t.rfind("Serial number:", 0) == 0) serial = Trim(t.substr(14));
    if (t.rfind("Label:", 0) == 0 && Trim(t.substr(6)) == label) found = serial;
  }
  for (const auto& name : Entries(token_dir_)) {
    if (!before.count(name) && !found.empty()) {
      std::ofstream(dir_.File("serial-" + found)) << name;
    }
  }
  return found;
}

std::string SoftHsm::DirectoryOf(const std::string& serial) const {
  std::ifstream in(dir_.File("serial-" + serial));
  std::string name;
  std::getline(in, name);
  return name;
}

bool SoftHsm::HideToken(const std::string& serial) {
  std::string name = DirectoryOf(serial);
  std::error_code ec;
  if (!name.empty()) fs::rename(token_dir_ + "/" + name, dir_.File("hidden-" + name), ec);
  return !name.empty() && !ec;
}

bool SoftHsm::RestoreToken(const std::string& serial) {
  std::string name = DirectoryOf(serial);
  std::error_code ec;
  if (!name.empty()) fs::rename(dir_.File("hidden-" + name), token_dir_ + "/" + name, ec);
  return !name.empty() && !ec;
}

bool SoftHsm::ImportKey(const std::string& token, const std::string& key_pem_file,
                        const std::string& key_label, const std::string& id_hex,
                        const std::string& user_pin) {
  return Shell("softhsm2-util --import " + ShellQuote(key_pem_file) + " --token " +
               ShellQuote(token) + " --label " + ShellQuote(key_label) + " --id " + id_hex +
               " --pin " + ShellQuote(user_pin)) == 0;
}

std::string SoftHsm::PinFile(const std::string& pin) {
  std::string path = dir_.File("pin-" + std::to_string(++files_));
  std::ofstream(path) << pin << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

std::string SoftHsm::Uri(const std::string& token, const std::string& object) const {
  std::string uri = "pkcs11:token=" + token;
  if (!object.empty()) uri += ";object=" + object;
  return uri + "?module-path=" + kModule;
}

int SoftHsm::Pkcs11Tool(const std::string& args, std::string* output) const {
  return Shell(std::string("pkcs11-tool --module ") + kModule + " " + args, output);
}

unsigned long SoftHsm::ReadSecretAttribute(const std::string& label, const std::string& pin,
                                           const std::string& id, unsigned long type) const {
  void* handle = ::dlopen(kModule, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return ~0ul;
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR f = nullptr;
  CK_RV result = ~0ul;
  if (get_list != nullptr && get_list(&f) == CKR_OK) {
    f->C_Initialize(nullptr);  // CKR_CRYPTOKI_ALREADY_INITIALIZED when kyso did
    CK_SLOT_ID slots[64];
    CK_ULONG count = 64;
    f->C_GetSlotList(CK_TRUE, slots, &count);
    for (CK_ULONG i = 0; i < count && result == ~0ul; ++i) {
      CK_TOKEN_INFO info{};
      if (f->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
      std::string token_label(reinterpret_cast<char*>(info.label), sizeof info.label);
      if (Trim(token_label) != label) continue;
      CK_SESSION_HANDLE session = 0;
      if (f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, nullptr, nullptr, &session) != CKR_OK) {
        continue;
      }
      f->C_Login(session, CKU_USER,
                 reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.data())), pin.size());
      std::string id_bytes;
      for (size_t k = 0; k + 1 < id.size(); k += 2) {
        id_bytes.push_back(static_cast<char>(std::stoi(id.substr(k, 2), nullptr, 16)));
      }
      CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
      CK_ATTRIBUTE find[] = {{CKA_CLASS, &cls, sizeof cls},
                             {CKA_ID, id_bytes.data(), id_bytes.size()}};
      CK_OBJECT_HANDLE key = 0;
      CK_ULONG found = 0;
      f->C_FindObjectsInit(session, find, 2);
      f->C_FindObjects(session, &key, 1, &found);
      f->C_FindObjectsFinal(session);
      if (found == 1) {
        unsigned char value[4096];
        CK_ATTRIBUTE attr = {type, value, sizeof value};
        result = f->C_GetAttributeValue(session, key, &attr, 1);
      }
      f->C_CloseSession(session);
    }
  }
  ::dlclose(handle);
  return result;
}

void SoftHsm::FinalizeUnderneath() const {
  void* handle = ::dlopen(kModule, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return;
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR f = nullptr;
  if (get_list != nullptr && get_list(&f) == CKR_OK) f->C_Finalize(nullptr);
  ::dlclose(handle);  // kyso's own dlopen keeps the module loaded
}

}  // namespace kyso::testlib
