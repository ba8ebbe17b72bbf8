#include "policy/attributes.h"

#include <array>

namespace kyso::policy::internal {

namespace {

// Encoding order follows the real certificates of the national PKI (C, L, O, CN, UID,
// emailAddress from the most significant RDN down), with DC, when used, above everything.
// Bounds: RFC 5280 Appendix A.1 upper bounds, and ITU-T X.520 (02/2001) for street and
// postalCode; C is "PrintableString (SIZE (2))" (RFC 5280 Appendix A.1, X520countryName).
constexpr std::array<AttributeInfo, 15> kAttributes = {{
    {"DC", 0, 0, "", true},
    {"C", 1, 2, "RFC 5280 Appendix A.1 X520countryName SIZE (2)", false},
    {"ST", 2, 128, "RFC 5280 Appendix A.1 ub-state-name", false},
    {"L", 3, 128, "RFC 5280 Appendix A.1 ub-locality-name", false},
    {"street", 4, 128, "X.520 ub-street-address", false},
    {"postalCode", 5, 40, "X.520 ub-postal-code", false},
    {"O", 6, 64, "RFC 5280 Appendix A.1 ub-organization-name", false},
    {"OU", 7, 64, "RFC 5280 Appendix A.1 ub-organizational-unit-name", true},
    {"title", 8, 64, "RFC 5280 Appendix A.1 ub-title", false},
    {"GN", 9, 32768, "RFC 5280 Appendix A.1 ub-name", false},
    {"SN", 10, 32768, "RFC 5280 Appendix A.1 ub-name", false},
    {"CN", 11, 64, "RFC 5280 Appendix A.1 ub-common-name", false},
    {"serialNumber", 12, 64, "RFC 5280 Appendix A.1 ub-serial-number", false},
    {"UID", 13, 0, "", true},
    {"emailAddress", 14, 255, "RFC 5280 Appendix A.1 ub-emailaddress-length", false},
}};

}  // namespace

const AttributeInfo* FindAttribute(std::string_view type) {
  for (const auto& info : kAttributes) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

}  // namespace kyso::policy::internal
