// The OpenSSL bridge below (openssl_key() of a token key) routes RSA and ECDSA private-key
// operations to the token through RSA_METHOD and EC_KEY_METHOD: OpenSSL 3 treats such keys as
// "foreign" and signs with them through its legacy code paths, which call the methods. These
// APIs are deprecated in OpenSSL 3.0 but present; the provider alternative would be a whole
// keymgmt and signature provider for the same two callbacks.
#undef OPENSSL_NO_DEPRECATED_3_0
#define OPENSSL_SUPPRESS_DEPRECATED

#include "crypto/pkcs11.h"

#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "crypto/openssl_error.h"

namespace kyso::crypto {

namespace {

// --- Return values -------------------------------------------------------------------------

std::string RvName(CK_RV rv) {
  switch (rv) {
#define KYSO_RV(name) \
  case name:          \
    return #name;
    KYSO_RV(CKR_OK)
    KYSO_RV(CKR_GENERAL_ERROR)
    KYSO_RV(CKR_FUNCTION_FAILED)
    KYSO_RV(CKR_ARGUMENTS_BAD)
    KYSO_RV(CKR_ATTRIBUTE_SENSITIVE)
    KYSO_RV(CKR_ATTRIBUTE_TYPE_INVALID)
    KYSO_RV(CKR_ATTRIBUTE_VALUE_INVALID)
    KYSO_RV(CKR_DATA_LEN_RANGE)
    KYSO_RV(CKR_DEVICE_ERROR)
    KYSO_RV(CKR_DEVICE_MEMORY)
    KYSO_RV(CKR_DEVICE_REMOVED)
    KYSO_RV(CKR_KEY_HANDLE_INVALID)
    KYSO_RV(CKR_KEY_TYPE_INCONSISTENT)
    KYSO_RV(CKR_KEY_FUNCTION_NOT_PERMITTED)
    KYSO_RV(CKR_MECHANISM_INVALID)
    KYSO_RV(CKR_MECHANISM_PARAM_INVALID)
    KYSO_RV(CKR_OBJECT_HANDLE_INVALID)
    KYSO_RV(CKR_OPERATION_ACTIVE)
    KYSO_RV(CKR_PIN_INCORRECT)
    KYSO_RV(CKR_PIN_LOCKED)
    KYSO_RV(CKR_SESSION_CLOSED)
    KYSO_RV(CKR_SESSION_HANDLE_INVALID)
    KYSO_RV(CKR_SESSION_READ_ONLY)
    KYSO_RV(CKR_SLOT_ID_INVALID)
    KYSO_RV(CKR_TEMPLATE_INCOMPLETE)
    KYSO_RV(CKR_TEMPLATE_INCONSISTENT)
    KYSO_RV(CKR_TOKEN_NOT_PRESENT)
    KYSO_RV(CKR_TOKEN_NOT_RECOGNIZED)
    KYSO_RV(CKR_TOKEN_WRITE_PROTECTED)
    KYSO_RV(CKR_USER_ALREADY_LOGGED_IN)
    KYSO_RV(CKR_USER_NOT_LOGGED_IN)
    KYSO_RV(CKR_USER_PIN_NOT_INITIALIZED)
    KYSO_RV(CKR_CRYPTOKI_NOT_INITIALIZED)
    KYSO_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED)
#undef KYSO_RV
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR_0x%lX", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

// The answers after which a session, or the whole module, has to be set up again: the token
// was pulled, the HSM restarted, or someone called C_Finalize underneath.
bool IsConnectionLoss(CK_RV rv) {
  return rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_REMOVED || rv == CKR_SESSION_HANDLE_INVALID ||
         rv == CKR_SESSION_CLOSED || rv == CKR_TOKEN_NOT_PRESENT ||
         rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_CRYPTOKI_NOT_INITIALIZED ||
         rv == CKR_SLOT_ID_INVALID;
}

constexpr std::string_view kTokenAbsent = "pkcs11.token_absent";
constexpr std::string_view kNotLoggedIn = "pkcs11.not_logged_in";  // internal: log in again

Status TokenAbsent(const std::string& why) {
  return Unavailable(std::string(kTokenAbsent), "the token is not available: " + why);
}

// Maps a module's answer to a Status: connection losses to pkcs11.token_absent (retried),
// the rest to pkcs11.error with the function and return value named.
Status Check(CK_RV rv, const char* function) {
  if (rv == CKR_OK) return Status::Ok();
  std::string what = std::string(function) + " returned " + RvName(rv);
  if (IsConnectionLoss(rv)) return TokenAbsent(what);
  if (rv == CKR_USER_NOT_LOGGED_IN) return Unauthenticated(std::string(kNotLoggedIn), what);
  return Internal("pkcs11.error", what);
}

std::string Trimmed(const unsigned char* text, size_t size) {
  std::string s(reinterpret_cast<const char*>(text), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// --- Modules -------------------------------------------------------------------------------

// How many times this process is a fork child, counted by a pthread_atfork handler.
std::atomic<uint64_t>& ForksInThisProcess() {
  static std::atomic<uint64_t> forks{0};
  static std::once_flag registered;
  std::call_once(registered, [] {
    ::pthread_atfork(nullptr, nullptr, [] { ForksInThisProcess().fetch_add(1); });
  });
  return forks;
}

// One loaded module, initialized once per process (PKCS#11 v2.40 §5.4: C_Initialize once per
// application). Calls hold `calls` shared; re-initializing holds it exclusively, so kyso never
// finalizes a module under its own running operations.
class Module {
 public:
  static Result<std::shared_ptr<Module>> Load(const std::string& path) {
    static std::mutex mu;
    // Leaked on purpose: modules stay loaded for the life of the process.
    static auto* loaded = new std::map<std::string, std::shared_ptr<Module>>();
    std::lock_guard lock(mu);
    if (auto it = loaded->find(path); it != loaded->end()) return it->second;
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      return NotFound("pkcs11.module_not_found",
                      "cannot load PKCS#11 module " + path + ": " + (why ? why : "dlopen failed"));
    }
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
    CK_FUNCTION_LIST_PTR functions = nullptr;
    if (get_list == nullptr || get_list(&functions) != CKR_OK || functions == nullptr) {
      ::dlclose(handle);
      return InvalidArgument("pkcs11.module_invalid",
                             path + " is not a PKCS#11 module (no C_GetFunctionList)");
    }
    auto module = std::shared_ptr<Module>(new Module(path, functions));
    KYSO_RETURN_IF_ERROR(module->Initialize(false));
    (*loaded)[path] = module;
    return module;
  }

  CK_FUNCTION_LIST* f() const { return f_; }
  const std::string& path() const { return path_; }
  uint64_t generation() const { return generation_.load(); }
  std::shared_mutex& calls() { return calls_; }

  // In a forked child the parent's sessions and login mean nothing (PKCS#11 v2.40 §5.4.1):
  // initialize again before the first call.
  Status EnsureInitializedInThisProcess() {
    // An atomic load per operation: pthread_atfork counts forks in the child (a getpid() per
    // signature was measurable).
    if (forks_seen_.load(std::memory_order_acquire) == ForksInThisProcess().load()) {
      return Status::Ok();
    }
    std::unique_lock lock(calls_);
    if (forks_seen_.load() == ForksInThisProcess().load()) return Status::Ok();
    return Initialize(true);
  }

  // C_Finalize and C_Initialize again, unless another thread already did since `seen`.
  Status Reinitialize(uint64_t seen) {
    std::unique_lock lock(calls_);
    if (generation_.load() != seen) return Status::Ok();
    f_->C_Finalize(nullptr);
    return Initialize(false);
  }

 private:
  Module(std::string path, CK_FUNCTION_LIST* f) : path_(std::move(path)), f_(f) {}

  Status Initialize(bool after_fork) {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = f_->C_Initialize(&args);
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED && after_fork) {
      // A module that does not notice fork (SoftHSM with reset_on_fork=false) still holds the
      // parent's state: start over.
      f_->C_Finalize(nullptr);
      rv = f_->C_Initialize(&args);
    }
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      return Internal("pkcs11.error", path_ + ": C_Initialize returned " + RvName(rv));
    }
    forks_seen_.store(ForksInThisProcess().load(), std::memory_order_release);
    generation_.fetch_add(1);
    return Status::Ok();
  }

  std::string path_;
  CK_FUNCTION_LIST* f_;
  std::shared_mutex calls_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> forks_seen_{0};
};

Result<std::string> ModulePath(const Pkcs11Uri& uri) {
  if (uri.module_path) return *uri.module_path;
  if (uri.module_name) {
    // p11-kit's convention: a bare name is looked up in the system's PKCS#11 module directory.
    for (const char* dir : {"/usr/lib/x86_64-linux-gnu/pkcs11/", "/usr/lib/pkcs11/"}) {
      for (const std::string& file :
           {*uri.module_name, *uri.module_name + ".so", "lib" + *uri.module_name + ".so"}) {
        std::string path = dir + file;
        if (::access(path.c_str(), R_OK) == 0) return path;
      }
    }
    return NotFound("pkcs11.module_not_found",
                    "no PKCS#11 module named " + *uri.module_name + " in the module directory");
  }
  if (const char* env = std::getenv("KYSO_PKCS11_MODULE"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  return InvalidArgument("pkcs11.module_unspecified",
                         "name the PKCS#11 module: ?module-path=... in the URI or "
                         "KYSO_PKCS11_MODULE");
}

// pin-source (RFC 7512 §2.3) as kyso reads it: a file, "file:/path", "file:///path" or a path.
Result<std::optional<std::string>> PinFile(const Pkcs11Uri& uri) {
  if (!uri.pin_source) return std::optional<std::string>();
  const std::string& s = *uri.pin_source;
  if (s.rfind("file:///", 0) == 0) return std::optional<std::string>(s.substr(7));
  if (s.rfind("file:/", 0) == 0) return std::optional<std::string>(s.substr(5));
  if (!s.empty() && s[0] == '/') return std::optional<std::string>(s);
  return InvalidArgument("pkcs11.uri_pin_source_unsupported",
                         "pin-source must name a file (file:/path)");
}

// --- Attributes ----------------------------------------------------------------------------

struct Attribute {
  CK_ATTRIBUTE_TYPE type;
  Bytes value;
};
Attribute Bool(CK_ATTRIBUTE_TYPE type, bool v) {
  return {type, Bytes{static_cast<uint8_t>(v ? CK_TRUE : CK_FALSE)}};
}
Attribute Ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return {type, std::move(b)};
}
Attribute Blob(CK_ATTRIBUTE_TYPE type, ByteSpan v) {
  return {type, Bytes(v.begin(), v.end())};
}
Attribute Text(CK_ATTRIBUTE_TYPE type, std::string_view v) {
  return Blob(type, AsBytes(v));
}
std::vector<CK_ATTRIBUTE> Template(std::vector<Attribute>& attrs) {
  std::vector<CK_ATTRIBUTE> t;
  for (auto& a : attrs) {
    t.push_back({a.type, a.value.empty() ? nullptr : a.value.data(),
                 static_cast<CK_ULONG>(a.value.size())});
  }
  return t;
}

// The DER encoding of an OpenSSL object through its i2d function; empty on failure.
template <typename T, typename I2d>
Bytes ToDer(T* object, I2d i2d) {
  unsigned char* der = nullptr;
  int len = object == nullptr ? 0 : i2d(object, &der);
  Bytes out(der, der + std::max(len, 0));
  OPENSSL_free(der);
  return out;
}

// SECG SEC 2 / RFC 5480 §2.1.1.1 named curves, DER-encoded OIDs as CKA_EC_PARAMS holds them.
const Bytes kP256Oid = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
const Bytes kP384Oid = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};

// RFC 8017 §9.2 note 1: the DER prefix of DigestInfo for each hash.
Bytes DigestInfoPrefix(DigestAlgorithm alg) {
  switch (alg) {
    case DigestAlgorithm::kSha256:
      return {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
              0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    case DigestAlgorithm::kSha384:
      return {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
              0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
    case DigestAlgorithm::kSha512:
      return {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
              0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
  }
  return {};
}

// RFC 5480 §2.2 / SEC 1 §2.3.3: the token returns r‖s, each as long as the group order;
// X.509, CMS and OCSP carry Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
Result<Bytes> EcdsaRawToDer(ByteSpan raw) {
  if (raw.empty() || raw.size() % 2 != 0) {
    return Internal("pkcs11.error", "the token returned an ECDSA signature of odd length");
  }
  size_t half = raw.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr);
  ECDSA_SIG_set0(sig, r, s);
  Bytes out = ToDer(sig, i2d_ECDSA_SIG);
  ECDSA_SIG_free(sig);
  if (out.empty()) return Internal("pkcs11.error", "cannot encode ECDSA signature");
  return out;
}

}  // namespace

// --- Tokens --------------------------------------------------------------------------------

struct Session {
  CK_SESSION_HANDLE handle = 0;
  uint64_t epoch = 0;  // the token's epoch when it was opened: handles found under it are valid
};

struct Pkcs11Token::Impl {
  std::shared_ptr<Module> module;
  Pkcs11Uri selector;  // token, serial, manufacturer, model
  Pkcs11Options options;
  std::optional<std::string> uri_pin_file;

  std::mutex mu;
  std::optional<CK_SLOT_ID> slot;
  uint64_t module_generation = 0;
  uint64_t epoch = 0;
  std::vector<CK_SESSION_HANDLE> idle;
  bool logged_in = false;
  std::string pin;
  Pkcs11TokenInfo info;

  ~Impl() { OPENSSL_cleanse(pin.data(), pin.size()); }

  CK_FUNCTION_LIST* f() const { return module->f(); }
  PinFailureCounter& counter() const {
    return options.pin_failures ? *options.pin_failures : ProcessPinFailureCounter();
  }
  std::string CounterKey() const { return module->path() + "|" + info.serial; }
  std::string Name() const { return "'" + info.label + "'"; }

  bool Matches(const CK_TOKEN_INFO& t) const {
    auto same = [](const std::optional<std::string>& want, const unsigned char* have, size_t n) {
      return !want || *want == Trimmed(have, n);
    };
    return same(selector.token, t.label, sizeof t.label) &&
           same(selector.serial, t.serialNumber, sizeof t.serialNumber) &&
           same(selector.manufacturer, t.manufacturerID, sizeof t.manufacturerID) &&
           same(selector.model, t.model, sizeof t.model);
  }

  static Pkcs11TokenInfo InfoOf(const CK_TOKEN_INFO& t) {
    Pkcs11TokenInfo i;
    i.label = Trimmed(t.label, sizeof t.label);
    i.serial = Trimmed(t.serialNumber, sizeof t.serialNumber);
    i.manufacturer = Trimmed(t.manufacturerID, sizeof t.manufacturerID);
    i.model = Trimmed(t.model, sizeof t.model);
    i.initialized = (t.flags & CKF_TOKEN_INITIALIZED) != 0;
    i.login_required = (t.flags & CKF_LOGIN_REQUIRED) != 0;
    i.user_pin_count_low = (t.flags & CKF_USER_PIN_COUNT_LOW) != 0;
    i.user_pin_final_try = (t.flags & CKF_USER_PIN_FINAL_TRY) != 0;
    i.user_pin_locked = (t.flags & CKF_USER_PIN_LOCKED) != 0;
    return i;
  }

  std::string Selector() const {
    std::string s;
    auto add = [&](const char* n, const std::optional<std::string>& v) {
      if (v) s += (s.empty() ? "" : ", ") + std::string(n) + " '" + *v + "'";
    };
    add("label", selector.token);
    add("serial", selector.serial);
    add("manufacturer", selector.manufacturer);
    add("model", selector.model);
    return s.empty() ? "any token" : s;
  }

  // Finds the slot holding the selected token. NotFound pkcs11.token_not_found when no
  // present token matches (the caller decides whether that means "absent").
  Status FindSlotLocked() {
    CK_ULONG count = 0;
    KYSO_RETURN_IF_ERROR(Check(f()->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList"));
    std::vector<CK_SLOT_ID> slots(count);
    if (count > 0) {
      KYSO_RETURN_IF_ERROR(
          Check(f()->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList"));
    }
    slots.resize(count);
    std::vector<std::pair<CK_SLOT_ID, CK_TOKEN_INFO>> found;
    for (CK_SLOT_ID s : slots) {
      CK_TOKEN_INFO t{};
      if (f()->C_GetTokenInfo(s, &t) != CKR_OK) continue;
      if ((t.flags & CKF_TOKEN_INITIALIZED) && Matches(t)) found.emplace_back(s, t);
    }
    if (found.empty()) {
      return NotFound("pkcs11.token_not_found",
                      "no token with " + Selector() + " in " + module->path());
    }
    if (found.size() > 1) {
      return InvalidArgument("pkcs11.token_ambiguous", std::to_string(found.size()) +
                                                           " tokens match " + Selector() +
                                                           ": add serial= to the URI");
    }
    slot = found[0].first;
    info = InfoOf(found[0].second);
    return Status::Ok();
  }

  // Forgets sessions, login and object handles. Sessions are closed only when the module is
  // still the one that opened them (after C_Initialize a handle may name someone else's).
  void DropStateLocked() {
    if (module->generation() == module_generation) {
      for (CK_SESSION_HANDLE h : idle) f()->C_CloseSession(h);
    }
    idle.clear();
    slot.reset();
    logged_in = false;
    ++epoch;
  }

  Result<std::string> ReadPin() {
    PassphraseSource source = options.pin;
    if (!source.file && uri_pin_file) source.file = uri_pin_file;
    static const SecretKind kPin{"KYSO_PIN_FILE", "pkcs11.pin_", "PIN",
                                 "--pin-file, pin-source=file:PATH in the URI, or KYSO_PIN_FILE"};
    return ReadSecret(source, kPin, "PIN for token " + Name());
  }

  // C_Login as the user, once per token. kyso counts wrong PINs itself (SoftHSM never locks).
  Status LoginLocked(CK_SESSION_HANDLE h) {
    CK_TOKEN_INFO t{};
    KYSO_RETURN_IF_ERROR(Check(f()->C_GetTokenInfo(*slot, &t), "C_GetTokenInfo"));
    info = InfoOf(t);
    int limit = options.max_pin_failures;
    auto locked = [&](const std::string& why) {
      return PermissionDenied("pkcs11.pin_locked",
                              "the user PIN of token " + Name() + " is locked: " + why +
                                  "; a device restore (new user PIN) unlocks it");
    };
    if (info.user_pin_locked) return locked("the token says so");
    if (!info.login_required) {
      logged_in = true;
      return Status::Ok();
    }
    int failures = counter().Failures(CounterKey());
    if (failures >= limit) return locked(std::to_string(failures) + " wrong PINs");
    CK_RV rv;
    if (t.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
      rv = f()->C_Login(h, CKU_USER, nullptr, 0);
    } else {
      if (pin.empty()) {
        KYSO_ASSIGN_OR_RETURN(pin, ReadPin());
      }
      rv = f()->C_Login(h, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()),
                        static_cast<CK_ULONG>(pin.size()));
    }
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
      counter().Reset(CounterKey());
      logged_in = true;
      return Status::Ok();
    }
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID) {
      OPENSSL_cleanse(pin.data(), pin.size());
      pin.clear();
      int n = counter().RecordFailure(CounterKey());
      return Unauthenticated("pkcs11.pin_incorrect",
                             "wrong PIN for token " + Name() + " (" + std::to_string(n) + " of " +
                                 std::to_string(limit) + " attempts before kyso locks it)");
    }
    if (rv == CKR_PIN_LOCKED) return locked("the token refuses the PIN");
    if (rv == CKR_PIN_EXPIRED) {
      return FailedPrecondition("pkcs11.pin_expired",
                                "the user PIN of token " + Name() + " has expired: set a new one");
    }
    return Check(rv, "C_Login");
  }

  Result<Session> Acquire() {
    std::lock_guard lock(mu);
    uint64_t generation = module->generation();
    if (generation != module_generation) {
      DropStateLocked();
      module_generation = generation;
    }
    if (!slot) {
      Status st = FindSlotLocked();
      if (st.id() == "pkcs11.token_not_found") return TokenAbsent(st.message());
      KYSO_RETURN_IF_ERROR(st);
    }
    CK_SESSION_HANDLE h = 0;
    if (!idle.empty()) {
      h = idle.back();
      idle.pop_back();
    } else {
      CK_RV rv =
          f()->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
      if (rv == CKR_TOKEN_WRITE_PROTECTED) {
        rv = f()->C_OpenSession(*slot, CKF_SERIAL_SESSION, nullptr, nullptr, &h);
      }
      KYSO_RETURN_IF_ERROR(Check(rv, "C_OpenSession"));
    }
    if (!logged_in) {
      Status st = LoginLocked(h);
      if (!st.ok()) {
        idle.push_back(h);
        return st;
      }
    }
    return Session{h, epoch};
  }

  void Release(const Session& s) {
    std::lock_guard lock(mu);
    if (s.epoch != epoch) return;
    if (idle.size() < 32) {
      idle.push_back(s.handle);
    } else {
      f()->C_CloseSession(s.handle);
    }
  }

  // A session whose operation failed may still have an operation active: close it.
  void Close(const Session& s) {
    std::lock_guard lock(mu);
    if (s.epoch != epoch) return;
    f()->C_CloseSession(s.handle);
    // Closing a token's last session logs the user out (PKCS#11 v2.40 §5.6.7).
    if (idle.empty()) logged_in = false;
  }

  void MarkLost(const Session& s) {
    std::lock_guard lock(mu);
    if (s.epoch == epoch) DropStateLocked();
  }

  // Runs `op` on a logged-in session of this token, reconnecting after a connection loss a
  // bounded number of times (options.max_reconnects), with a short pause between tries.
  Status Run(const std::function<Status(const Session&)>& op) {
    Status last;
    for (int attempt = 0; attempt <= options.max_reconnects; ++attempt) {
      if (attempt > 1) std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
      KYSO_RETURN_IF_ERROR(module->EnsureInitializedInThisProcess());
      uint64_t generation = module->generation();
      bool lost = false;
      {
        std::shared_lock calls(module->calls());
        auto session = Acquire();
        if (!session.ok()) {
          if (session.status().id() != kTokenAbsent) return session.status();
          last = session.status();
          lost = true;
        } else {
          Status st = op(*session);
          if (st.ok()) {
            Release(*session);
            return st;
          }
          if (st.id() == kNotLoggedIn) {
            // The token logged us out (its last session closed, or it was reset).
            MarkLost(*session);
            last = TokenAbsent(st.message());
            continue;
          }
          if (st.id() != kTokenAbsent) {
            Close(*session);
            return st;
          }
          MarkLost(*session);
          last = st;
          lost = true;
        }
      }
      if (lost) {
        // The module may have been finalized underneath, or (SoftHSM) only sees tokens as they
        // were at C_Initialize: initialize it again before looking for the token.
        Status st = module->Reinitialize(generation);
        if (!st.ok()) last = st;
      }
    }
    return last;
  }

  // --- object helpers, called inside Run ---

  Status Find(const Session& s, std::vector<Attribute> attrs, std::vector<CK_OBJECT_HANDLE>& out) {
    auto t = Template(attrs);
    KYSO_RETURN_IF_ERROR(Check(f()->C_FindObjectsInit(s.handle, t.empty() ? nullptr : t.data(),
                                                      static_cast<CK_ULONG>(t.size())),
                               "C_FindObjectsInit"));
    CK_OBJECT_HANDLE batch[64];
    CK_ULONG n = 0;
    CK_RV rv;
    while ((rv = f()->C_FindObjects(s.handle, batch, 64, &n)) == CKR_OK && n > 0) {
      out.insert(out.end(), batch, batch + n);
    }
    CK_RV final_rv = f()->C_FindObjectsFinal(s.handle);
    KYSO_RETURN_IF_ERROR(Check(rv, "C_FindObjects"));
    return Check(final_rv, "C_FindObjectsFinal");
  }

  // The value of one attribute, or nullopt when the token keeps it secret or the object has
  // no such attribute.
  Result<std::optional<Bytes>> Get(const Session& s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
    CK_ATTRIBUTE a{type, nullptr, 0};
    CK_RV rv = f()->C_GetAttributeValue(s.handle, o, &a, 1);
    if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
      return std::optional<Bytes>();
    }
    KYSO_RETURN_IF_ERROR(Check(rv, "C_GetAttributeValue"));
    Bytes value(a.ulValueLen);
    a.pValue = value.data();
    KYSO_RETURN_IF_ERROR(
        Check(f()->C_GetAttributeValue(s.handle, o, &a, 1), "C_GetAttributeValue"));
    value.resize(a.ulValueLen);
    return std::optional<Bytes>(std::move(value));
  }
  Result<std::optional<CK_ULONG>> GetUlong(const Session& s, CK_OBJECT_HANDLE o,
                                           CK_ATTRIBUTE_TYPE type) {
    KYSO_ASSIGN_OR_RETURN(auto v, Get(s, o, type));
    if (!v || v->size() != sizeof(CK_ULONG)) return std::optional<CK_ULONG>();
    CK_ULONG out;
    std::memcpy(&out, v->data(), sizeof out);
    return std::optional<CK_ULONG>(out);
  }
  Result<bool> GetBool(const Session& s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
    KYSO_ASSIGN_OR_RETURN(auto v, Get(s, o, type));
    return v && v->size() == 1 && (*v)[0] != CK_FALSE;
  }
};

namespace {

std::vector<Attribute> KeySelector(CK_OBJECT_CLASS cls, const std::optional<std::string>& label,
                                   const std::optional<Bytes>& id) {
  std::vector<Attribute> t;
  if (cls != CK_UNAVAILABLE_INFORMATION) t.push_back(Ulong(CKA_CLASS, cls));
  if (label) t.push_back(Text(CKA_LABEL, *label));
  if (id) t.push_back(Blob(CKA_ID, *id));
  return t;
}

std::string ClassName(CK_OBJECT_CLASS c) {
  switch (c) {
    case CKO_PRIVATE_KEY:
      return "private";
    case CKO_PUBLIC_KEY:
      return "public";
    case CKO_CERTIFICATE:
      return "cert";
    case CKO_SECRET_KEY:
      return "secret-key";
    case CKO_DATA:
      return "data";
    default:
      return "other";
  }
}

std::string Described(const std::string& type) {
  if (type == "public") return "a public key";
  if (type == "cert") return "a certificate";
  if (type == "secret-key") return "a secret key";
  if (type == "data") return "a data object";
  return "an object of another class";
}

// The public half of a key as SubjectPublicKeyInfo DER: from the key's own attributes (RSA),
// the public key object with the same CKA_ID (EC_POINT), or the certificate with that id.
Result<Bytes> ReadPublicSpki(Pkcs11Token::Impl& t, const Session& s, CK_OBJECT_HANDLE key,
                             CK_KEY_TYPE type, const std::optional<Bytes>& id,
                             CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE) {
  std::vector<CK_OBJECT_HANDLE> candidates{key};
  if (public_key != CK_INVALID_HANDLE) candidates.push_back(public_key);
  if (id) {
    KYSO_RETURN_IF_ERROR(t.Find(s, KeySelector(CKO_PUBLIC_KEY, std::nullopt, id), candidates));
  }
  if (type == CKK_RSA) {
    for (CK_OBJECT_HANDLE o : candidates) {
      KYSO_ASSIGN_OR_RETURN(auto n, t.Get(s, o, CKA_MODULUS));
      KYSO_ASSIGN_OR_RETURN(auto e, t.Get(s, o, CKA_PUBLIC_EXPONENT));
      if (!n || !e || n->empty() || e->empty()) continue;
      RSA* rsa = RSA_new();
      RSA_set0_key(rsa, BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr),
                   BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr), nullptr);
      Bytes out = ToDer(rsa, i2d_RSA_PUBKEY);
      RSA_free(rsa);
      if (out.empty()) return Internal("pkcs11.error", "cannot encode the RSA public key");
      return out;
    }
  } else {
    KYSO_ASSIGN_OR_RETURN(auto params, t.Get(s, key, CKA_EC_PARAMS));
    for (CK_OBJECT_HANDLE o : candidates) {
      if (!params) {
        KYSO_ASSIGN_OR_RETURN(params, t.Get(s, o, CKA_EC_PARAMS));
      }
      KYSO_ASSIGN_OR_RETURN(auto point, t.Get(s, o, CKA_EC_POINT));
      if (!params || !point || point->empty()) continue;
      int nid = *params == kP256Oid   ? NID_X9_62_prime256v1
                : *params == kP384Oid ? NID_secp384r1
                                      : NID_undef;
      if (nid == NID_undef) {
        return InvalidArgument("pkcs11.key_wrong_type",
                               "the EC key is on a curve kyso does not sign with (P-256, P-384)");
      }
      // PKCS#11 v2.40 §2.3.3: CKA_EC_POINT is DER-encoded ECPoint (an OCTET STRING); some
      // tokens store the bare point. Accept both.
      const unsigned char* p = point->data();
      ASN1_OCTET_STRING* os = d2i_ASN1_OCTET_STRING(nullptr, &p, static_cast<long>(point->size()));
      Bytes bare;
      if (os != nullptr && p == point->data() + point->size()) {
        bare.assign(ASN1_STRING_get0_data(os), ASN1_STRING_get0_data(os) + ASN1_STRING_length(os));
      } else {
        bare = *point;
      }
      ASN1_OCTET_STRING_free(os);
      ERR_clear_error();
      EC_KEY* ec = EC_KEY_new_by_curve_name(nid);
      const unsigned char* q = bare.data();
      bool ok = o2i_ECPublicKey(&ec, &q, static_cast<long>(bare.size())) != nullptr;
      Bytes out = ok ? ToDer(ec, i2d_EC_PUBKEY) : Bytes{};
      EC_KEY_free(ec);
      if (out.empty()) {
        return Internal("pkcs11.error",
                        "the token's EC point does not decode: " + DrainOpenSslErrors());
      }
      return out;
    }
  }
  if (id) {
    std::vector<CK_OBJECT_HANDLE> certs;
    KYSO_RETURN_IF_ERROR(t.Find(s, KeySelector(CKO_CERTIFICATE, std::nullopt, id), certs));
    for (CK_OBJECT_HANDLE c : certs) {
      KYSO_ASSIGN_OR_RETURN(auto value, t.Get(s, c, CKA_VALUE));
      if (!value) continue;
      const unsigned char* p = value->data();
      X509* x = d2i_X509(nullptr, &p, static_cast<long>(value->size()));
      if (x == nullptr) {
        ERR_clear_error();
        continue;
      }
      Bytes out = ToDer(X509_get_X509_PUBKEY(x), i2d_X509_PUBKEY);
      X509_free(x);
      if (!out.empty()) return out;
    }
  }
  return NotFound("pkcs11.public_key_missing",
                  "the token holds neither the public key nor a certificate for the key");
}

// --- the OpenSSL bridge ---

class Pkcs11Key;
int RsaIndex() {
  static int index = RSA_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
int EcIndex() {
  static int index = EC_KEY_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void RaiseStatus(const Status& st) {
  ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "%s", st.ToString().c_str());
}

int RsaPrivateEncrypt(int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                      int padding);
ECDSA_SIG* EcdsaSignSig(const unsigned char* digest, int digest_len, const BIGNUM*, const BIGNUM*,
                        EC_KEY* ec);

RSA_METHOD* RsaMethod() {
  static RSA_METHOD* method = [] {
    RSA_METHOD* m = RSA_meth_dup(RSA_PKCS1_OpenSSL());
    RSA_meth_set1_name(m, "kyso PKCS#11");
    RSA_meth_set_priv_enc(m, RsaPrivateEncrypt);
    return m;
  }();
  return method;
}

EC_KEY_METHOD* EcMethod() {
  static EC_KEY_METHOD* method = [] {
    EC_KEY_METHOD* m = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
    int (*sign)(int, const unsigned char*, int, unsigned char*, unsigned int*, const BIGNUM*,
                const BIGNUM*, EC_KEY*) = nullptr;
    int (*setup)(EC_KEY*, BN_CTX*, BIGNUM**, BIGNUM**) = nullptr;
    ECDSA_SIG* (*sign_sig)(const unsigned char*, int, const BIGNUM*, const BIGNUM*, EC_KEY*) =
        nullptr;
    EC_KEY_METHOD_get_sign(m, &sign, &setup, &sign_sig);
    EC_KEY_METHOD_set_sign(m, sign, setup, EcdsaSignSig);
    return m;
  }();
  return method;
}

class Pkcs11Key final : public Signer {
 public:
  Pkcs11Key(std::shared_ptr<Pkcs11Token::Impl> token, std::optional<std::string> label,
            std::optional<Bytes> id, PublicKey public_key, KeySpec spec, std::string ref)
      : token_(std::move(token)),
        label_(std::move(label)),
        id_(std::move(id)),
        public_key_(std::move(public_key)),
        spec_(std::move(spec)),
        ref_(std::move(ref)) {}

  Status MakeBridge() {
    Bytes spki = public_key_.SpkiDer();
    const unsigned char* p = spki.data();
    EVP_PKEY* pkey = EVP_PKEY_new();
    bool ok = false;
    if (spec_.algorithm == KeyAlgorithm::kRsa) {
      RSA* rsa = d2i_RSA_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
      ok = rsa != nullptr && RSA_set_method(rsa, RsaMethod()) &&
           RSA_set_ex_data(rsa, RsaIndex(), this) && EVP_PKEY_assign_RSA(pkey, rsa);
      if (!ok) RSA_free(rsa);
    } else {
      EC_KEY* ec = d2i_EC_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
      ok = ec != nullptr && EC_KEY_set_method(ec, EcMethod()) &&
           EC_KEY_set_ex_data(ec, EcIndex(), this) && EVP_PKEY_assign_EC_KEY(pkey, ec);
      if (!ok) EC_KEY_free(ec);
    }
    if (!ok) {
      EVP_PKEY_free(pkey);
      return Internal("pkcs11.error", "cannot set up the key for OpenSSL: " + DrainOpenSslErrors());
    }
    bridge_.reset(pkey);
    return Status::Ok();
  }

  const PublicKey& public_key() const override { return public_key_; }
  KeySpec key_spec() const override { return spec_; }
  std::string key_ref() const override { return ref_; }
  EVP_PKEY* openssl_key() const override { return bridge_.get(); }

  // PKCS#11 v2.40 §2.1.6 (CKM_RSA_PKCS over a DigestInfo the caller encodes, RFC 8017 §9.2),
  // §2.1.10 (CKM_RSA_PKCS_PSS over the digest, MGF1 with the same hash and salt length equal to
  // the hash length, RFC 4055 §3.1), §2.3.7 (CKM_ECDSA over the digest, r‖s converted to DER).
  Result<Bytes> SignDigest(const SignatureScheme& scheme, ByteSpan digest) const override {
    if (digest.size() != DigestSize(scheme.digest)) {
      return InvalidArgument("signer.digest_length", "digest length does not match " +
                                                         std::string(DigestName(scheme.digest)));
    }
    if (spec_.algorithm == KeyAlgorithm::kEcdsa) {
      CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
      KYSO_ASSIGN_OR_RETURN(Bytes raw, SignRaw(mech, digest));
      return EcdsaRawToDer(raw);
    }
    if (scheme.padding == RsaPadding::kPss) {
      CK_RSA_PKCS_PSS_PARAMS params{};
      switch (scheme.digest) {
        case DigestAlgorithm::kSha256:
          params = {CKM_SHA256, CKG_MGF1_SHA256, 32};
          break;
        case DigestAlgorithm::kSha384:
          params = {CKM_SHA384, CKG_MGF1_SHA384, 48};
          break;
        case DigestAlgorithm::kSha512:
          params = {CKM_SHA512, CKG_MGF1_SHA512, 64};
          break;
      }
      CK_MECHANISM mech{CKM_RSA_PKCS_PSS, &params, sizeof params};
      return SignRaw(mech, digest);
    }
    Bytes info = DigestInfoPrefix(scheme.digest);
    info.insert(info.end(), digest.begin(), digest.end());
    CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
    return SignRaw(mech, info);
  }

  Result<Bytes> SignRaw(CK_MECHANISM mech, ByteSpan data) const {
    Bytes out;
    Status st = token_->Run([&](const Session& s) -> Status {
      KYSO_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, Handle(s));
      CK_FUNCTION_LIST* f = token_->f();
      KYSO_RETURN_IF_ERROR(Check(f->C_SignInit(s.handle, &mech, key), "C_SignInit"));
      // One call with room for the largest signature kyso makes (RSA-4096: 512 bytes); the
      // length query of PKCS#11 v2.40 §5.2 only when a token wants more.
      auto* in = const_cast<CK_BYTE_PTR>(data.data());
      out.resize(512);
      CK_ULONG len = out.size();
      CK_RV rv = f->C_Sign(s.handle, in, static_cast<CK_ULONG>(data.size()), out.data(), &len);
      if (rv == CKR_BUFFER_TOO_SMALL) {
        out.resize(len);
        rv = f->C_Sign(s.handle, in, static_cast<CK_ULONG>(data.size()), out.data(), &len);
      }
      KYSO_RETURN_IF_ERROR(Check(rv, "C_Sign"));
      out.resize(len);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

 private:
  // The key's object handle under the session's epoch: found again after a reconnect.
  Result<CK_OBJECT_HANDLE> Handle(const Session& s) const {
    {
      std::lock_guard lock(mu_);
      if (handle_epoch_ == s.epoch && handle_ != CK_INVALID_HANDLE) return handle_;
    }
    std::vector<CK_OBJECT_HANDLE> found;
    KYSO_RETURN_IF_ERROR(token_->Find(s, KeySelector(CKO_PRIVATE_KEY, label_, id_), found));
    if (found.size() != 1) {
      return NotFound("pkcs11.key_not_found",
                      "the key " + ref_ + " is no longer on the token (or is not alone)");
    }
    std::lock_guard lock(mu_);
    handle_ = found[0];
    handle_epoch_ = s.epoch;
    return handle_;
  }

  std::shared_ptr<Pkcs11Token::Impl> token_;
  std::optional<std::string> label_;
  std::optional<Bytes> id_;
  PublicKey public_key_;
  KeySpec spec_;
  std::string ref_;
  EvpPkeyPtr bridge_;
  mutable std::mutex mu_;
  mutable CK_OBJECT_HANDLE handle_ = CK_INVALID_HANDLE;
  mutable uint64_t handle_epoch_ = ~uint64_t{0};
};

int RsaPrivateEncrypt(int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                      int padding) {
  auto* key = static_cast<const Pkcs11Key*>(RSA_get_ex_data(rsa, RsaIndex()));
  // RSA_sign hands over an encoded DigestInfo with PKCS#1 padding to apply; the PSS path of
  // OpenSSL's legacy RSA method pads itself and asks for a raw operation (CKM_RSA_X_509).
  CK_MECHANISM mech{padding == RSA_PKCS1_PADDING ? CKM_RSA_PKCS : CKM_RSA_X_509, nullptr, 0};
  if (key == nullptr || (padding != RSA_PKCS1_PADDING && padding != RSA_NO_PADDING)) return -1;
  auto sig = key->SignRaw(mech, ByteSpan(from, static_cast<size_t>(flen)));
  if (!sig.ok()) {
    RaiseStatus(sig.status());
    return -1;
  }
  std::memcpy(to, sig->data(), sig->size());
  return static_cast<int>(sig->size());
}

ECDSA_SIG* EcdsaSignSig(const unsigned char* digest, int digest_len, const BIGNUM*, const BIGNUM*,
                        EC_KEY* ec) {
  auto* key = static_cast<const Pkcs11Key*>(EC_KEY_get_ex_data(ec, EcIndex()));
  if (key == nullptr) return nullptr;
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  auto raw = key->SignRaw(mech, ByteSpan(digest, static_cast<size_t>(digest_len)));
  if (!raw.ok() || raw->empty() || raw->size() % 2 != 0) {
    RaiseStatus(raw.ok() ? Internal("pkcs11.error", "odd ECDSA signature") : raw.status());
    return nullptr;
  }
  size_t half = raw->size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(raw->data(), static_cast<int>(half), nullptr),
                 BN_bin2bn(raw->data() + half, static_cast<int>(half), nullptr));
  return sig;
}

class MemoryPinFailureCounter final : public PinFailureCounter {
 public:
  int Failures(const std::string& serial) override {
    std::lock_guard lock(mu_);
    return counts_[serial];
  }
  int RecordFailure(const std::string& serial) override {
    std::lock_guard lock(mu_);
    return ++counts_[serial];
  }
  void Reset(const std::string& serial) override {
    std::lock_guard lock(mu_);
    counts_.erase(serial);
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> counts_;
};

}  // namespace

PinFailureCounter& ProcessPinFailureCounter() {
  static auto* counter = new MemoryPinFailureCounter();
  return *counter;
}

// --- Pkcs11Token ---------------------------------------------------------------------------

Result<std::shared_ptr<Pkcs11Token>> Pkcs11Token::Open(const Pkcs11Uri& uri,
                                                       Pkcs11Options options) {
  KYSO_ASSIGN_OR_RETURN(std::string path, ModulePath(uri));
  KYSO_ASSIGN_OR_RETURN(auto pin_file, PinFile(uri));
  KYSO_ASSIGN_OR_RETURN(auto module, Module::Load(path));
  auto impl = std::make_shared<Impl>();
  impl->module = module;
  impl->selector.token = uri.token;
  impl->selector.serial = uri.serial;
  impl->selector.manufacturer = uri.manufacturer;
  impl->selector.model = uri.model;
  impl->selector.module_path = path;
  impl->options = options;
  impl->uri_pin_file = pin_file;
  // SoftHSM sees only the tokens that existed at C_Initialize: look once more after
  // initializing again before deciding the token is not there.
  for (int pass = 0; pass < 2; ++pass) {
    KYSO_RETURN_IF_ERROR(module->EnsureInitializedInThisProcess());
    uint64_t generation = module->generation();
    Status st;
    {
      std::shared_lock calls(module->calls());
      std::lock_guard lock(impl->mu);
      impl->module_generation = generation;
      st = impl->FindSlotLocked();
    }
    if (st.ok()) return std::shared_ptr<Pkcs11Token>(new Pkcs11Token(impl));
    bool retry = st.id() == "pkcs11.token_not_found" || st.id() == kTokenAbsent;
    if (!retry || pass == 1) {
      if (st.id() == kTokenAbsent) {
        return NotFound("pkcs11.token_not_found", "no token with " + impl->Selector());
      }
      return st;
    }
    KYSO_RETURN_IF_ERROR(module->Reinitialize(generation));
  }
  return Internal("pkcs11.error", "unreachable");
}

Pkcs11Token::~Pkcs11Token() = default;

Pkcs11TokenInfo Pkcs11Token::Info() const {
  std::lock_guard lock(impl_->mu);
  return impl_->info;
}

Pkcs11Uri Pkcs11Token::TokenUri() const {
  Pkcs11Uri uri;
  std::lock_guard lock(impl_->mu);
  uri.token = impl_->info.label;
  uri.serial = impl_->info.serial;
  uri.module_path = impl_->module->path();
  return uri;
}

Result<std::vector<Pkcs11ObjectInfo>> Pkcs11Token::Objects() {
  std::vector<Pkcs11ObjectInfo> out;
  Impl& t = *impl_;
  KYSO_RETURN_IF_ERROR(t.Run([&](const Session& s) -> Status {
    out.clear();
    std::vector<CK_OBJECT_HANDLE> all;
    KYSO_RETURN_IF_ERROR(t.Find(s, {}, all));
    for (CK_OBJECT_HANDLE o : all) {
      Pkcs11ObjectInfo info;
      KYSO_ASSIGN_OR_RETURN(auto cls, t.GetUlong(s, o, CKA_CLASS));
      info.type = cls ? ClassName(*cls) : "other";
      KYSO_ASSIGN_OR_RETURN(auto label, t.Get(s, o, CKA_LABEL));
      if (label) info.label.assign(label->begin(), label->end());
      KYSO_ASSIGN_OR_RETURN(auto id, t.Get(s, o, CKA_ID));
      if (id) info.id = *id;
      if (info.type == "private" || info.type == "secret-key") {
        KYSO_ASSIGN_OR_RETURN(info.sensitive, t.GetBool(s, o, CKA_SENSITIVE));
        KYSO_ASSIGN_OR_RETURN(info.extractable, t.GetBool(s, o, CKA_EXTRACTABLE));
      }
      if (info.type == "private" || info.type == "public") {
        KYSO_ASSIGN_OR_RETURN(auto type, t.GetUlong(s, o, CKA_KEY_TYPE));
        if (type && *type == CKK_RSA) {
          KYSO_ASSIGN_OR_RETURN(auto n, t.Get(s, o, CKA_MODULUS));
          if (n) info.key = "rsa:" + std::to_string(n->size() * 8);
        } else if (type && *type == CKK_EC) {
          KYSO_ASSIGN_OR_RETURN(auto params, t.Get(s, o, CKA_EC_PARAMS));
          if (params)
            info.key = *params == kP256Oid   ? "ec:P-256"
                       : *params == kP384Oid ? "ec:P-384"
                                             : "ec:other";
        }
      }
      out.push_back(std::move(info));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::shared_ptr<const Signer>> Pkcs11Token::LoadSigner(const Pkcs11Uri& key) {
  if (key.type && *key.type != "private") {
    return InvalidArgument(
        "pkcs11.key_wrong_type",
        "type=" + *key.type + " names no private key: kyso signs with type=private");
  }
  if (!key.object && !key.id) {
    return InvalidArgument("pkcs11.key_unspecified", "name the key with object= or id=");
  }
  Impl& t = *impl_;
  std::optional<Bytes> id = key.id;
  Bytes spki;
  KYSO_RETURN_IF_ERROR(t.Run([&](const Session& s) -> Status {
    std::vector<CK_OBJECT_HANDLE> found;
    KYSO_RETURN_IF_ERROR(t.Find(s, KeySelector(CKO_PRIVATE_KEY, key.object, key.id), found));
    std::string name = key.object ? "'" + *key.object + "'" : "with id " + HexEncode(*key.id);
    if (found.empty()) {
      std::vector<CK_OBJECT_HANDLE> others;
      KYSO_RETURN_IF_ERROR(
          t.Find(s, KeySelector(CK_UNAVAILABLE_INFORMATION, key.object, key.id), others));
      if (!others.empty()) {
        KYSO_ASSIGN_OR_RETURN(auto cls, t.GetUlong(s, others[0], CKA_CLASS));
        return InvalidArgument("pkcs11.key_wrong_type",
                               "the object " + name + " on token " + t.Name() + " is " +
                                   Described(cls ? ClassName(*cls) : "other") +
                                   ", not a private key");
      }
      return NotFound("pkcs11.key_not_found", "no private key " + name + " on token " + t.Name());
    }
    if (found.size() > 1) {
      return InvalidArgument("pkcs11.key_ambiguous", std::to_string(found.size()) +
                                                         " private keys match " + name +
                                                         ": give both object= and id=");
    }
    KYSO_ASSIGN_OR_RETURN(auto type, t.GetUlong(s, found[0], CKA_KEY_TYPE));
    if (!type || (*type != CKK_RSA && *type != CKK_EC)) {
      return InvalidArgument(
          "pkcs11.key_wrong_type",
          "the key " + name + " is neither RSA nor EC: kyso cannot sign with it");
    }
    KYSO_ASSIGN_OR_RETURN(bool can_sign, t.GetBool(s, found[0], CKA_SIGN));
    if (!can_sign) {
      return InvalidArgument("pkcs11.key_wrong_type",
                             "the key " + name + " may not sign (CKA_SIGN)");
    }
    if (!id) {
      KYSO_ASSIGN_OR_RETURN(id, t.Get(s, found[0], CKA_ID));
    }
    KYSO_ASSIGN_OR_RETURN(spki, ReadPublicSpki(t, s, found[0], *type, id));
    return Status::Ok();
  }));
  KYSO_ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromSpkiDer(spki));
  KYSO_ASSIGN_OR_RETURN(KeySpec spec, public_key.Spec());
  if (spec.algorithm == KeyAlgorithm::kEcdsa && spec.curve != "P-256" && spec.curve != "P-384") {
    return InvalidArgument("pkcs11.key_wrong_type", "kyso signs with EC keys on P-256 or P-384");
  }
  Pkcs11Uri ref = TokenUri();
  ref.object = key.object;
  ref.id = id;
  ref.type = "private";
  // The handle is looked up by what the URI gave (a label alone stays a label).
  auto signer = std::make_shared<Pkcs11Key>(impl_, key.object, key.object ? key.id : id,
                                            std::move(public_key), spec, ref.ToString());
  KYSO_RETURN_IF_ERROR(signer->MakeBridge());
  return std::shared_ptr<const Signer>(std::move(signer));
}

Result<std::shared_ptr<const Signer>> Pkcs11Token::GenerateKey(const KeySpec& spec,
                                                               const std::string& label,
                                                               std::optional<Bytes> id) {
  bool rsa = spec.algorithm == KeyAlgorithm::kRsa;
  if (!(rsa && spec.bits >= 2048 && spec.bits <= 4096) &&
      !(spec.algorithm == KeyAlgorithm::kEcdsa &&
        (spec.curve == "P-256" || spec.curve == "P-384"))) {
    return InvalidArgument(
        "key.spec_invalid",
        "keys on a token are rsa:2048–4096, ec:P-256 or ec:P-384, not " + spec.ToString());
  }
  if (label.empty())
    return InvalidArgument("pkcs11.key_unspecified", "a key on a token needs a label");
  Impl& t = *impl_;
  Bytes final_id;
  KYSO_RETURN_IF_ERROR(t.Run([&](const Session& s) -> Status {
    std::vector<CK_OBJECT_HANDLE> taken;
    KYSO_RETURN_IF_ERROR(t.Find(s, KeySelector(CKO_PRIVATE_KEY, label, std::nullopt), taken));
    if (id)
      KYSO_RETURN_IF_ERROR(
          t.Find(s, KeySelector(CK_UNAVAILABLE_INFORMATION, std::nullopt, id), taken));
    if (!taken.empty()) {
      return AlreadyExists("pkcs11.key_exists",
                           "token " + t.Name() + " already holds a key labelled '" + label + "'" +
                               (id ? " or an object with id " + HexEncode(*id) : ""));
    }
    // The public half is a token object too, so the public key can be read back later.
    std::vector<Attribute> pub = {Bool(CKA_TOKEN, true), Bool(CKA_VERIFY, true),
                                  Bool(CKA_ENCRYPT, false), Text(CKA_LABEL, label)};
    // PKCS#11 v2.40 §4.9: CKA_SENSITIVE and not CKA_EXTRACTABLE, so the private value never
    // leaves the token, not even wrapped.
    std::vector<Attribute> priv = {Bool(CKA_TOKEN, true),     Bool(CKA_PRIVATE, true),
                                   Bool(CKA_SENSITIVE, true), Bool(CKA_EXTRACTABLE, false),
                                   Bool(CKA_SIGN, true),      Bool(CKA_DECRYPT, false),
                                   Text(CKA_LABEL, label)};
    if (id) {
      pub.push_back(Blob(CKA_ID, *id));
      priv.push_back(Blob(CKA_ID, *id));
    }
    CK_MECHANISM mech;
    if (rsa) {
      mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
      pub.push_back(Ulong(CKA_MODULUS_BITS, static_cast<CK_ULONG>(spec.bits)));
      pub.push_back(Blob(CKA_PUBLIC_EXPONENT, Bytes{0x01, 0x00, 0x01}));
    } else {
      mech = {CKM_EC_KEY_PAIR_GEN, nullptr, 0};
      pub.push_back(Blob(CKA_EC_PARAMS, spec.curve == "P-256" ? kP256Oid : kP384Oid));
      priv.push_back(Bool(CKA_DERIVE, false));
    }
    auto pub_t = Template(pub);
    auto priv_t = Template(priv);
    CK_OBJECT_HANDLE pub_h = 0, priv_h = 0;
    KYSO_RETURN_IF_ERROR(
        Check(t.f()->C_GenerateKeyPair(s.handle, &mech, pub_t.data(),
                                       static_cast<CK_ULONG>(pub_t.size()), priv_t.data(),
                                       static_cast<CK_ULONG>(priv_t.size()), &pub_h, &priv_h),
              "C_GenerateKeyPair"));
    if (id) {
      final_id = *id;
      return Status::Ok();
    }
    // RFC 5280 §4.2.1.2 method (1) as CKA_ID: the id the certificate's key identifiers carry.
    KYSO_ASSIGN_OR_RETURN(
        Bytes spki_der, ReadPublicSpki(t, s, priv_h, rsa ? CKK_RSA : CKK_EC, std::nullopt, pub_h));
    KYSO_ASSIGN_OR_RETURN(PublicKey pk, PublicKey::FromSpkiDer(spki_der));
    final_id = pk.KeyIdentifier();
    CK_ATTRIBUTE a{CKA_ID, final_id.data(), static_cast<CK_ULONG>(final_id.size())};
    KYSO_RETURN_IF_ERROR(
        Check(t.f()->C_SetAttributeValue(s.handle, priv_h, &a, 1), "C_SetAttributeValue"));
    return Check(t.f()->C_SetAttributeValue(s.handle, pub_h, &a, 1), "C_SetAttributeValue");
  }));
  Pkcs11Uri key;
  key.object = label;
  key.id = final_id;
  return LoadSigner(key);
}

Status Pkcs11Token::ImportCertificate(ByteSpan der, const std::string& label, ByteSpan id) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr || p != der.data() + der.size()) {
    X509_free(x);
    DrainOpenSslErrors();
    return InvalidArgument("certificate.malformed", "not a DER X.509 certificate");
  }
  Bytes subject = ToDer(X509_get_subject_name(x), i2d_X509_NAME);
  Bytes issuer = ToDer(X509_get_issuer_name(x), i2d_X509_NAME);
  Bytes serial = ToDer(X509_get0_serialNumber(x), i2d_ASN1_INTEGER);
  X509_free(x);
  // PKCS#11 v2.40 §4.6.3: X.509 public key certificate objects.
  std::vector<Attribute> attrs = {Ulong(CKA_CLASS, CKO_CERTIFICATE),
                                  Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509),
                                  Bool(CKA_TOKEN, true),
                                  Bool(CKA_PRIVATE, false),
                                  Text(CKA_LABEL, label),
                                  Blob(CKA_ID, id),
                                  Blob(CKA_SUBJECT, subject),
                                  Blob(CKA_ISSUER, issuer),
                                  Blob(CKA_SERIAL_NUMBER, serial),
                                  Blob(CKA_VALUE, der)};
  auto tmpl = Template(attrs);
  Impl& t = *impl_;
  return t.Run([&](const Session& s) -> Status {
    CK_OBJECT_HANDLE h = 0;
    return Check(
        t.f()->C_CreateObject(s.handle, tmpl.data(), static_cast<CK_ULONG>(tmpl.size()), &h),
        "C_CreateObject");
  });
}

Result<std::vector<Bytes>> Pkcs11Token::CertificatesWithId(ByteSpan id) {
  std::vector<Bytes> out;
  Impl& t = *impl_;
  KYSO_RETURN_IF_ERROR(t.Run([&](const Session& s) -> Status {
    out.clear();
    std::vector<CK_OBJECT_HANDLE> certs;
    KYSO_RETURN_IF_ERROR(
        t.Find(s, KeySelector(CKO_CERTIFICATE, std::nullopt, Bytes(id.begin(), id.end())), certs));
    for (CK_OBJECT_HANDLE c : certs) {
      KYSO_ASSIGN_OR_RETURN(auto value, t.Get(s, c, CKA_VALUE));
      if (value) out.push_back(std::move(*value));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Pkcs11TokenInfo>> ListPkcs11Tokens(const std::string& module_path) {
  KYSO_ASSIGN_OR_RETURN(auto module, Module::Load(module_path));
  KYSO_RETURN_IF_ERROR(module->EnsureInitializedInThisProcess());
  std::shared_lock calls(module->calls());
  CK_FUNCTION_LIST* f = module->f();
  CK_ULONG count = 0;
  KYSO_RETURN_IF_ERROR(Check(f->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList"));
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0)
    KYSO_RETURN_IF_ERROR(Check(f->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList"));
  slots.resize(count);
  std::vector<Pkcs11TokenInfo> out;
  for (CK_SLOT_ID s : slots) {
    CK_TOKEN_INFO t{};
    if (f->C_GetTokenInfo(s, &t) != CKR_OK || !(t.flags & CKF_TOKEN_INITIALIZED)) continue;
    out.push_back(Pkcs11Token::Impl::InfoOf(t));
  }
  return out;
}

Result<std::shared_ptr<const Signer>> OpenPkcs11Signer(std::string_view text,
                                                       const Pkcs11Options& options) {
  KYSO_ASSIGN_OR_RETURN(Pkcs11Uri uri, Pkcs11Uri::Parse(text));
  KYSO_ASSIGN_OR_RETURN(auto token, Pkcs11Token::Open(uri, options));
  return token->LoadSigner(uri);
}

}  // namespace kyso::crypto
