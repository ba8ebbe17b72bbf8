// Keys on tokens and HSMs through PKCS#11 (OASIS PKCS#11 v2.40 base specification).
//
// A module is loaded with dlopen and used through its C_GetFunctionList table; kyso includes
// p11-kit's pkcs11.h but does not link p11-kit. Tokens and keys are named by PKCS#11 URIs
// (RFC 7512, pkcs11_uri.h); a token is found by label, serial, manufacturer or model, never by
// slot number.
//
// A key on a token is a `Signer` like a file key: the CA, OCSP, TSA, audit and PDF signing code
// cannot tell them apart. Its public key is read from the token (CKA_MODULUS and
// CKA_PUBLIC_EXPONENT, or CKA_EC_PARAMS and the public key's CKA_EC_POINT, or the certificate
// with the same CKA_ID); its private key never leaves the token.
//
// Sessions: each token keeps a pool of sessions, shared by threads; the user logs in once per
// token (CKR_USER_ALREADY_LOGGED_IN is benign). When the module answers CKR_DEVICE_ERROR,
// CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_REMOVED or
// CKR_CRYPTOKI_NOT_INITIALIZED (token pulled, HSM restarted, C_Finalize underneath) an operation
// reconnects: it re-initializes the module if needed, finds the token again by label or serial,
// logs in again and finds its key again, a bounded number of times; while the token is absent it
// fails with Unavailable pkcs11.token_absent, and the next operation after the token is back
// succeeds. A forked child re-initializes the module before its first operation (a fork
// counter kept by pthread_atfork).
//
// PIN: --pin-file, then the URI's pin-source (file:PATH), then $KYSO_PIN_FILE, then a prompt.
// The PIN is kept in memory only while the token is open, to log in again after a reconnect, and
// is never part of a log line or message. Failed logins are counted by kyso per token serial
// (SoftHSM never locks a PIN): after `max_pin_failures` failures the token is refused with
// pkcs11.pin_locked until the counter is reset by a restore.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/key.h"
#include "crypto/passphrase.h"
#include "crypto/pkcs11_uri.h"
#include "crypto/signer.h"

namespace kyso::crypto {

// kyso's own count of failed user logins, per token serial.
class PinFailureCounter {
 public:
  virtual ~PinFailureCounter() = default;
  virtual int Failures(const std::string& token_serial) = 0;
  // Returns the count after this failure.
  virtual int RecordFailure(const std::string& token_serial) = 0;
  virtual void Reset(const std::string& token_serial) = 0;
};
// In memory, shared by the whole process.
PinFailureCounter& ProcessPinFailureCounter();

struct Pkcs11Options {
  PassphraseSource pin;  // file: --pin-file; allow_prompt: false for --json and servers
  int max_pin_failures = 5;
  // Reconnects one operation may make before it reports pkcs11.token_absent.
  int max_reconnects = 3;
  PinFailureCounter* pin_failures = nullptr;  // null: ProcessPinFailureCounter()
};

struct Pkcs11TokenInfo {
  std::string label, serial, manufacturer, model;
  bool initialized = false;
  bool login_required = false;
  // CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED as the token reports them.
  bool user_pin_count_low = false;
  bool user_pin_final_try = false;
  bool user_pin_locked = false;
};

struct Pkcs11ObjectInfo {
  std::string type;  // RFC 7512 type: private, public, cert, secret-key, data (or "other")
  std::string label;
  Bytes id;
  std::string key;           // "rsa:2048", "ec:P-256", ... for keys whose type kyso knows; else ""
  bool sensitive = false;    // CKA_SENSITIVE (private and secret keys)
  bool extractable = false;  // CKA_EXTRACTABLE
};

class Pkcs11Token {
 public:
  // Opens the token the URI's token=, serial=, manufacturer= and model= select, in the module
  // of module-path (or $KYSO_PKCS11_MODULE). Errors: pkcs11.module_unspecified,
  // pkcs11.module_not_found, pkcs11.module_invalid, pkcs11.token_not_found,
  // pkcs11.token_ambiguous, pkcs11.error.
  static Result<std::shared_ptr<Pkcs11Token>> Open(const Pkcs11Uri& uri, Pkcs11Options options);
  ~Pkcs11Token();

  Pkcs11TokenInfo Info() const;
  // The objects the user may see (logs in first). Attributes the token keeps secret are absent.
  Result<std::vector<Pkcs11ObjectInfo>> Objects();

  // The private key `key` selects (object= and/or id=; type= if given must be private) as a
  // Signer. Errors: pkcs11.key_not_found, pkcs11.key_ambiguous, pkcs11.key_wrong_type (a public
  // key, certificate or secret key, or a key type kyso does not sign with), the login errors
  // pkcs11.pin_incorrect, pkcs11.pin_locked, pkcs11.pin_unavailable, and pkcs11.token_absent.
  Result<std::shared_ptr<const Signer>> LoadSigner(const Pkcs11Uri& key);

  // Generates a key pair on the token: RSA 2048–4096 or EC P-256/P-384, the private key
  // CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN only. Without `id`
  // the CKA_ID of both halves is the public key's RFC 5280 key identifier (SHA-1 of the
  // subjectPublicKey). Errors: pkcs11.key_exists (the label or id is taken), key.spec_invalid.
  Result<std::shared_ptr<const Signer>> GenerateKey(const KeySpec& spec, const std::string& label,
                                                    std::optional<Bytes> id = std::nullopt);

  // Writes an X.509 certificate (DER) as a token object with `label` and `id`, next to its key.
  Status ImportCertificate(ByteSpan der, const std::string& label, ByteSpan id);
  // The certificates (DER) whose CKA_ID is `id`.
  Result<std::vector<Bytes>> CertificatesWithId(ByteSpan id);

  // A URI naming this token (token= and serial=) and its module.
  Pkcs11Uri TokenUri() const;

  struct Impl;

 private:
  explicit Pkcs11Token(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// The tokens present in the module at `module_path` (no login).
Result<std::vector<Pkcs11TokenInfo>> ListPkcs11Tokens(const std::string& module_path);

// Opens the token and the key that `uri` names: the one call a command needs.
Result<std::shared_ptr<const Signer>> OpenPkcs11Signer(std::string_view uri,
                                                       const Pkcs11Options& options);

}  // namespace kyso::crypto
