// Subject attribute types the profiles know: where each goes in an issued name, how long its
// value may be, and whether it may repeat. Internal to the policy module (loader and Evaluate).
#pragma once

#include <cstddef>
#include <string_view>

namespace kyso::policy::internal {

struct AttributeInfo {
  std::string_view type;   // x509::Name short name
  int rank;                // position in the issued name, most significant first
  size_t max_chars;        // upper bound in Unicode characters; 0 = none
  std::string_view bound;  // where the bound comes from
  bool repeatable;         // may occur more than once in one name
};

// nullptr for a type not in the table (a dotted OID, or a misspelling).
const AttributeInfo* FindAttribute(std::string_view type);

// The rank of attributes not in the table: after all known ones.
inline constexpr int kUnknownAttributeRank = 100;

}  // namespace kyso::policy::internal
