// The CA hierarchy unit tests build with ca::InitializeHierarchy: a P-384 root, a P-256 issuing
// CA, and P-256 OCSP, TSA and audit keys (fast to generate and sign with), with the
// Vietnamese organization the profiles require. Header-only: only tests that link kyso_ca
// include it.
#pragma once

#include "ca/hierarchy.h"

namespace kyso::testlib {

inline ca::HierarchySpec TestHierarchySpec() {
  ca::HierarchySpec spec;
  spec.root = {"root",
               "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root test",
               *crypto::KeySpec::Parse("ec:P-384"),
               ca::kCaValidityDays,
               crypto::RsaPadding::kPkcs1v15,
               {}};
  spec.issuing = {"issuing",
                  "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Issuing test",
                  *crypto::KeySpec::Parse("ec:P-256"),
                  3653,
                  crypto::RsaPadding::kPkcs1v15,
                  {"anyPolicy"}};
  spec.ocsp = {"/C=VN/O=Ban Cơ yếu Chính phủ/CN=OCSP", *crypto::KeySpec::Parse("ec:P-256"),
               "ocsp-signer", std::nullopt};
  spec.tsa = {"/C=VN/O=Ban Cơ yếu Chính phủ/CN=TSA", *crypto::KeySpec::Parse("ec:P-256"), "tsa",
              std::nullopt};
  spec.audit_subject = "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Audit";
  spec.audit_key = *crypto::KeySpec::Parse("ec:P-256");
  return spec;
}

}  // namespace kyso::testlib
