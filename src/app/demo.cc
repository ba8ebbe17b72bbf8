#include "app/demo.h"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "app/signing.h"
#include "auth/password.h"
#include "base/files.h"
#include "crypto/random.h"
#include "ra/calendar.h"
#include "ra/registry.h"
#include "ra/state_machine.h"
#include "x509/csr.h"

namespace kyso::app {
namespace {

using json = nlohmann::json;

// SplitMix64: a fixed generator with a written-down algorithm, so that one seed gives the same
// directory on every platform (the std:: distributions are implementation-defined).
class DemoRandom {
 public:
  explicit DemoRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Below(size_t n) { return static_cast<int>(Next() % n); }
  int Between(int lo, int hi) { return lo + Below(static_cast<size_t>(hi - lo + 1)); }
  bool Chance(int percent) { return Below(100) < percent; }
  std::string Digits(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>('0' + Below(10)));
    return out;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Below(v.size()))];
  }

 private:
  uint64_t state_;
};

// A name part with the ASCII form used in e-mail addresses.
struct Word {
  const char* vi;
  const char* ascii;
};

const std::vector<Word> kFamily = {
    {"Nguyễn", "nguyen"}, {"Nguyễn", "nguyen"}, {"Trần", "tran"}, {"Lê", "le"},
    {"Phạm", "pham"},     {"Hoàng", "hoang"},   {"Vũ", "vu"},     {"Đặng", "dang"},
    {"Bùi", "bui"},       {"Đỗ", "do"},         {"Ngô", "ngo"},   {"Dương", "duong"},
    {"Phan", "phan"},     {"Hà", "ha"},         {"Thân", "than"}, {"Giáp", "giap"},
    {"Lương", "luong"},   {"Trịnh", "trinh"},   {"Đào", "dao"},   {"Chu", "chu"},
};
const std::vector<Word> kMaleMiddle = {
    {"Văn", "van"},     {"Văn", "van"},   {"Đức", "duc"},   {"Minh", "minh"},
    {"Quang", "quang"}, {"Hữu", "huu"},   {"Xuân", "xuan"}, {"Tiến", "tien"},
    {"Công", "cong"},   {"Mạnh", "manh"}, {"Quốc", "quoc"}, {"Thế", "the"},
};
const std::vector<Word> kFemaleMiddle = {
    {"Thị", "thi"},   {"Thị", "thi"},       {"Thu", "thu"},   {"Ngọc", "ngoc"}, {"Thanh", "thanh"},
    {"Minh", "minh"}, {"Phương", "phuong"}, {"Hồng", "hong"}, {"Thùy", "thuy"}, {"Kim", "kim"},
};
const std::vector<Word> kMaleGiven = {
    {"Anh", "anh"},     {"Bình", "binh"},   {"Cường", "cuong"}, {"Dũng", "dung"},
    {"Đạt", "dat"},     {"Hải", "hai"},     {"Hùng", "hung"},   {"Huy", "huy"},
    {"Khánh", "khanh"}, {"Long", "long"},   {"Nam", "nam"},     {"Phong", "phong"},
    {"Quân", "quan"},   {"Sơn", "son"},     {"Thắng", "thang"}, {"Thành", "thanh"},
    {"Trung", "trung"}, {"Tuấn", "tuan"},   {"Việt", "viet"},   {"Hiếu", "hieu"},
    {"Kiên", "kien"},   {"Lâm", "lam"},     {"Tùng", "tung"},   {"Vinh", "vinh"},
    {"Toàn", "toan"},   {"Quyết", "quyet"}, {"Định", "dinh"},   {"Hưng", "hung"},
};
const std::vector<Word> kFemaleGiven = {
    {"Anh", "anh"},       {"Chi", "chi"},     {"Dung", "dung"},   {"Giang", "giang"},
    {"Hà", "ha"},         {"Hạnh", "hanh"},   {"Hằng", "hang"},   {"Hiền", "hien"},
    {"Hoa", "hoa"},       {"Hương", "huong"}, {"Lan", "lan"},     {"Linh", "linh"},
    {"Mai", "mai"},       {"Ngân", "ngan"},   {"Nhung", "nhung"}, {"Oanh", "oanh"},
    {"Phương", "phuong"}, {"Quỳnh", "quynh"}, {"Thảo", "thao"},   {"Trang", "trang"},
    {"Uyên", "uyen"},     {"Vân", "van"},     {"Yến", "yen"},     {"Nga", "nga"},
};

const std::vector<const char*> kStreets = {
    "đường Hùng Vương", "đường Nguyễn Văn Cừ", "đường Xương Giang",      "đường Ngô Gia Tự",
    "đường Lê Lợi",     "đường Quang Trung",   "đường Nguyễn Gia Thiều", "đường Trần Nguyên Hãn",
};

struct DepartmentSpec {
  const char* name;
  const char* abbr;    // e-mail and account names
  const char* head;    // the leader's title
  const char* deputy;  // the deputies' title
  std::vector<const char*> units;
};

// The first unit of a Sở is its Văn phòng, where the clerk (văn thư) works.
const std::vector<DepartmentSpec> kDepartments = {
    {"Văn phòng UBND tỉnh",
     "vp",
     "Chánh Văn phòng",
     "Phó Chánh Văn phòng",
     {"Phòng Hành chính - Tổ chức", "Phòng Tổng hợp", "Phòng Kinh tế",
      "Trung tâm Phục vụ hành chính công"}},
    {"Sở Tài chính",
     "stc",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Quản lý ngân sách", "Phòng Tài chính hành chính sự nghiệp",
      "Phòng Quản lý giá và công sản", "Thanh tra Sở"}},
    {"Sở Nội vụ",
     "snv",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Tổ chức, biên chế và tổ chức phi chính phủ",
      "Phòng Công chức, viên chức", "Phòng Xây dựng chính quyền và công tác thanh niên"}},
    {"Sở Tư pháp",
     "stp",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Xây dựng và kiểm tra văn bản quy phạm pháp luật",
      "Phòng Hành chính tư pháp", "Phòng Bổ trợ tư pháp"}},
    {"Sở Y tế",
     "syt",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Nghiệp vụ Y", "Phòng Nghiệp vụ Dược", "Phòng Kế hoạch - Tài chính"}},
    {"Sở Giáo dục và Đào tạo",
     "sgddt",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Giáo dục Mầm non và Tiểu học", "Phòng Giáo dục Trung học",
      "Phòng Khảo thí và Quản lý chất lượng"}},
    {"Sở Kế hoạch và Đầu tư",
     "skhdt",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Tổng hợp, quy hoạch", "Phòng Đăng ký kinh doanh",
      "Phòng Kinh tế đối ngoại"}},
    {"Sở Tài nguyên và Môi trường",
     "stnmt",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Quản lý đất đai", "Phòng Môi trường"}},
    {"Sở Xây dựng",
     "sxd",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Quản lý xây dựng", "Phòng Quy hoạch - Kiến trúc"}},
    {"Sở Thông tin và Truyền thông",
     "stttt",
     "Giám đốc",
     "Phó Giám đốc",
     {"Văn phòng Sở", "Phòng Công nghệ thông tin", "Phòng Bưu chính, Viễn thông"}},
};

constexpr const char* kProvince = "Bắc Giang";
constexpr const char* kProvinceBody = "UBND tỉnh Bắc Giang";
constexpr const char* kMailDomain = "bacgiang.gov.vn";
constexpr const char* kCccdProvince = "024";  // Bắc Giang's code in the CCCD number
constexpr int kTargetStaff = 200;
constexpr int64_t kDay = kSecondsPerDay;

// A 10-digit MST whose last digit is the check digit of Vietnamese tax codes (weights 31, 29,
// 23, 19, 17, 13, 7, 5, 3; 10 - sum mod 11; a result of 10 is not a valid code).
std::string TaxCode(DemoRandom& rnd) {
  static constexpr int kWeights[] = {31, 29, 23, 19, 17, 13, 7, 5, 3};
  for (;;) {
    std::string code = "24" + rnd.Digits(7);  // 24: Bắc Giang's tax department
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (code[i] - '0') * kWeights[i];
    const int check = 10 - sum % 11;
    if (check >= 10) continue;
    return code + static_cast<char>('0' + check);
  }
}

std::string ToPem(const char* label, ByteSpan der) {
  const std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + std::string(label) + "-----\n";
}

struct Staff {
  int64_t person_id = 0;
  int64_t unit_id = 0;        // the body the person works in
  int64_t department_id = 0;  // the managing agency
  size_t department = 0;      // index in kDepartments
  std::string unit_name;      // "" for the department's leaders
  std::string full_name;
  std::string email;
  std::string personal_id;
  std::string mobile;
  std::string position;
  bool leader = false;
  bool clerk = false;
  std::optional<store::CertificateRecord> certificate;
};

struct Department {
  store::OrganizationRecord org;
  std::vector<store::OrganizationRecord> units;
  std::string tax_code, budget_code;
  std::optional<ra::Principal> officer;  // its agency officer
};

class Builder {
 public:
  Builder(Instance& instance, uint64_t seed)
      : inst_(instance),
        rnd_(seed),
        now_(instance.clock().Now()),
        past_clock_(now_ - 12 * kDay),
        registry_(Deps(&instance.clock()), Options()),
        past_registry_(Deps(&past_clock_), Options()) {}

  Result<DemoDirectory> Build(const std::string& admin_password);

 private:
  ra::Registry::Dependencies Deps(const Clock* clock) {
    ra::Registry::Dependencies d;
    d.db = &inst_.db();
    d.authority = &inst_.authority();
    d.audit = &inst_.audit_log();
    d.clock = clock;
    return d;
  }
  static ra::RegistryOptions Options() {
    ra::RegistryOptions o;
    // The demo's requests are submitted unsigned (marked so in each request); a demo instance
    // is the only kind that accepts them.
    o.allow_unsigned_submissions = true;
    return o;
  }

  Status Bodies();
  Status People();
  Status Accounts();
  Status Certificates();
  Status Requests();
  Status SigningKey();
  Status WriteAccountsFile();
  Status Count();

  Result<ra::Principal> Principal(const std::string& username);
  Result<store::AccountRecord> Account(const std::string& role_label, const std::string& username,
                                       const std::string& role, std::optional<int64_t> org,
                                       std::optional<int64_t> person, std::string display,
                                       bool with_password);
  Staff MakePerson(size_t department, const store::OrganizationRecord& unit,
                   const std::string& position, bool leader);
  Result<Bytes> Csr(const std::string& slashed,
                    std::optional<crypto::PrivateKey>* key_out = nullptr);
  std::string PersonSubject(const Staff& s) const;
  json PersonForm(const Staff& s, const std::string& csr_pem) const;

  // One request: drafted by `by` through `reg`, then moved along `steps` (action, actor,
  // reason). "submit" submits unsigned; "execute" executes.
  struct Step {
    std::string action;
    const ra::Principal* by;
    std::string reason;
    ra::Registry* reg = nullptr;  // nullptr: the present-day registry
  };
  Result<store::RequestRecord> Request(ra::Registry& reg, const ra::Principal& by,
                                       const std::string& kind, const Staff* person,
                                       const store::CertificateRecord* cert, json form,
                                       std::vector<Step> steps);
  Result<store::RequestRecord> NewIndividual(ra::Registry& reg, const ra::Principal& by, Staff& s,
                                             std::vector<Step> steps);

  Staff* FindStaff(size_t department, const std::function<bool(const Staff&)>& match);

  Instance& inst_;
  DemoRandom rnd_;
  crypto::SystemRng secrets_;
  UnixSeconds now_;
  FixedClock past_clock_;
  ra::Registry registry_;
  ra::Registry past_registry_;  // its clock reads 12 days ago: overdue requests
  ra::Principal admin_;
  ra::Principal operator_;
  ra::Principal auditor_;
  ra::Principal delegate_;
  ra::Principal clerk_;
  ra::Principal subscriber_;
  store::OrganizationRecord province_;
  std::vector<Department> departments_;
  std::vector<Staff> staff_;
  std::set<std::string> personal_ids_, emails_;
  std::set<int64_t> used_certificates_;  // certificates a request already acts on
  std::set<int64_t> used_people_;        // people a request is already about
  std::optional<crypto::PrivateKey> seal_key_;
  std::optional<store::CertificateRecord> seal_certificate_;
  DemoDirectory out_;
};

// --- bodies -------------------------------------------------------------------------------

Status Builder::Bodies() {
  store::OrganizationRecord root;
  root.name = kProvinceBody;
  root.tax_code = TaxCode(rnd_);
  root.budget_code = "10" + rnd_.Digits(5);
  root.address = "Số 82 đường Hùng Vương, phường Ngô Quyền, thành phố Bắc Giang";
  root.email = std::string("ubnd@") + kMailDomain;
  root.province = kProvince;
  root.managing_agency = true;
  KYSO_ASSIGN_OR_RETURN(auto created, registry_.CreateOrganization(admin_, root));
  province_ = created.record;
  std::set<std::string> codes = {root.tax_code, root.budget_code};
  for (const DepartmentSpec& spec : kDepartments) {
    Department d;
    store::OrganizationRecord org;
    org.parent_id = province_.id;
    org.name = spec.name;
    do {
      d.tax_code = TaxCode(rnd_);
      d.budget_code = "10" + rnd_.Digits(5);
    } while (!codes.insert(d.tax_code).second || !codes.insert(d.budget_code).second);
    org.tax_code = d.tax_code;
    org.budget_code = d.budget_code;
    org.address = "Số " + std::to_string(rnd_.Between(2, 240)) + " " + rnd_.Pick(kStreets) +
                  ", thành phố Bắc Giang";
    org.email = std::string(spec.abbr) + "@" + kMailDomain;
    org.province = kProvince;
    org.managing_agency = true;
    KYSO_ASSIGN_OR_RETURN(auto dept, registry_.CreateOrganization(admin_, org));
    d.org = dept.record;
    for (const char* unit_name : spec.units) {
      store::OrganizationRecord unit;
      unit.parent_id = d.org.id;
      unit.name = unit_name;
      unit.address = d.org.address;
      unit.province = kProvince;
      KYSO_ASSIGN_OR_RETURN(auto u, registry_.CreateOrganization(admin_, unit));
      d.units.push_back(u.record);
    }
    departments_.push_back(std::move(d));
  }
  return Status::Ok();
}

// --- people -------------------------------------------------------------------------------

Staff Builder::MakePerson(size_t department, const store::OrganizationRecord& unit,
                          const std::string& position, bool leader) {
  Staff s;
  const bool female = rnd_.Chance(48);
  const Word& family = rnd_.Pick(kFamily);
  const Word& middle = rnd_.Pick(female ? kFemaleMiddle : kMaleMiddle);
  const Word& given = rnd_.Pick(female ? kFemaleGiven : kMaleGiven);
  s.full_name = std::string(family.vi) + " " + middle.vi + " " + given.vi;
  const std::string local = std::string(given.ascii) + family.ascii[0] + middle.ascii[0];
  const std::string suffix = std::string(".") + kDepartments[department].abbr + "@" + kMailDomain;
  s.email = local + suffix;
  for (int n = 2; !emails_.insert(s.email).second; ++n) {
    s.email = local + std::to_string(n) + suffix;
  }
  // CCCD: province code, then century and sex (0 man, 1 woman born 1900-1999), the year of
  // birth's last two digits, six more digits.
  const int born = leader ? rnd_.Between(1966, 1980) : rnd_.Between(1968, 1999);
  do {
    s.personal_id = std::string(kCccdProvince) + (female ? "1" : "0") +
                    std::to_string(born % 100 + 100).substr(1) + rnd_.Digits(6);
  } while (!personal_ids_.insert(s.personal_id).second);
  static const std::vector<const char*> kMobilePrefixes = {"091", "094", "098", "097", "086",
                                                           "088", "035", "036", "083", "096"};
  s.mobile = std::string(rnd_.Pick(kMobilePrefixes)) + rnd_.Digits(7);
  s.position = position;
  s.leader = leader;
  s.department = department;
  s.department_id = departments_[department].org.id;
  s.unit_id = unit.id;
  if (unit.id != s.department_id) s.unit_name = unit.name;
  return s;
}

Status Builder::People() {
  // Leaders sit in the department itself; each unit has a head, maybe a deputy and officers;
  // each Văn phòng Sở has the clerk and an accountant. The officers' numbers are drawn until
  // about kTargetStaff people are registered.
  for (size_t i = 0; i < departments_.size(); ++i) {
    const DepartmentSpec& spec = kDepartments[i];
    const Department& d = departments_[i];
    staff_.push_back(MakePerson(i, d.org, spec.head, true));
    for (int k = 0; k < 2; ++k) staff_.push_back(MakePerson(i, d.org, spec.deputy, true));
    for (const auto& unit : d.units) {
      const bool office = unit.name == "Văn phòng Sở";
      const bool inspect = unit.name == "Thanh tra Sở";
      staff_.push_back(MakePerson(i, unit,
                                  office    ? "Chánh Văn phòng"
                                  : inspect ? "Chánh Thanh tra"
                                            : "Trưởng phòng",
                                  false));
      if (rnd_.Chance(70)) {
        staff_.push_back(MakePerson(i, unit,
                                    office    ? "Phó Chánh Văn phòng"
                                    : inspect ? "Phó Chánh Thanh tra"
                                              : "Phó Trưởng phòng",
                                    false));
      }
      if (office) {
        Staff clerk = MakePerson(i, unit, "Văn thư", false);
        clerk.clerk = true;
        staff_.push_back(std::move(clerk));
        staff_.push_back(MakePerson(i, unit, "Kế toán", false));
      }
    }
  }
  // The provincial office (no Văn phòng Sở) keeps its clerk in Phòng Hành chính - Tổ chức.
  {
    Staff clerk = MakePerson(0, departments_[0].units[0], "Văn thư", false);
    clerk.clerk = true;
    staff_.push_back(std::move(clerk));
  }
  static const std::vector<const char*> kOfficerTitles = {
      "Chuyên viên", "Chuyên viên", "Chuyên viên", "Chuyên viên chính", "Cán sự"};
  while (static_cast<int>(staff_.size()) < kTargetStaff) {
    const size_t i = static_cast<size_t>(rnd_.Below(departments_.size()));
    const auto& unit = rnd_.Pick(departments_[i].units);
    const char* title = unit.name == "Thanh tra Sở" ? "Thanh tra viên" : rnd_.Pick(kOfficerTitles);
    staff_.push_back(MakePerson(i, unit, title, false));
  }
  for (Staff& s : staff_) {
    store::PersonRecord p;
    p.organization_id = s.unit_id;
    p.full_name = s.full_name;
    p.personal_id = s.personal_id;
    p.position = s.position;
    p.email = s.email;
    p.mobile = s.mobile;
    KYSO_ASSIGN_OR_RETURN(auto created, registry_.CreatePerson(admin_, p));
    s.person_id = created.record.id;
  }
  return Status::Ok();
}

Staff* Builder::FindStaff(size_t department, const std::function<bool(const Staff&)>& match) {
  for (Staff& s : staff_) {
    if (s.department == department && match(s)) return &s;
  }
  return nullptr;
}

// --- accounts -----------------------------------------------------------------------------

Result<ra::Principal> Builder::Principal(const std::string& username) {
  int64_t id = 0;
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, inst_.db().Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(auto account, tx->GetAccountByUsername(username));
    id = account.id;
  }
  return registry_.PrincipalFor(id, "console");
}

Result<store::AccountRecord> Builder::Account(const std::string& role_label,
                                              const std::string& username, const std::string& role,
                                              std::optional<int64_t> org,
                                              std::optional<int64_t> person, std::string display,
                                              bool with_password) {
  store::AccountRecord a;
  a.username = username;
  a.role = role;
  a.organization_id = org;
  a.person_id = person;
  a.display_name = std::move(display);
  DemoAccount listed{role_label, username, "", a.display_name};
  if (with_password) {
    listed.password = crypto::GeneratePassphrase(secrets_, 20);  // 100 bits, typeable
    KYSO_ASSIGN_OR_RETURN(a.password_hash,
                          auth::HashPassword(listed.password, auth::PasswordCost::Interactive()));
  }
  KYSO_ASSIGN_OR_RETURN(auto created, registry_.CreateAccount(admin_, a));
  if (with_password) out_.accounts.push_back(std::move(listed));
  return created;
}

Status Builder::Accounts() {
  const size_t kStc = 1, kSyt = 4, kVp = 0;
  KYSO_RETURN_IF_ERROR(Account("ca_operator", "vanhanh", "ca_operator", std::nullopt, std::nullopt,
                               "Cán bộ vận hành CA (Ban Cơ yếu Chính phủ)", true)
                           .status());
  KYSO_ASSIGN_OR_RETURN(operator_, Principal("vanhanh"));
  KYSO_RETURN_IF_ERROR(Account("auditor", "kiemtoan", "auditor", std::nullopt, std::nullopt,
                               "Cán bộ chuyên trách CNTT (kiểm toán)", true)
                           .status());
  KYSO_ASSIGN_OR_RETURN(auditor_, Principal("kiemtoan"));
  // Every department has its officer (cán bộ phụ trách); the demo logs in as two of them: the
  // one of Sở Tài chính, and the one of Sở Y tế, who must see nothing of Sở Tài chính.
  for (size_t i = 0; i < departments_.size(); ++i) {
    const std::string username = std::string("canbo.") + kDepartments[i].abbr;
    const bool listed = i == kStc || i == kSyt;
    KYSO_RETURN_IF_ERROR(Account(i == kStc ? "agency_officer" : "other_agency_officer", username,
                                 "agency_officer", departments_[i].org.id, std::nullopt,
                                 "Cán bộ phụ trách chữ ký số - " + departments_[i].org.name, listed)
                             .status());
    KYSO_ASSIGN_OR_RETURN(departments_[i].officer, Principal(username));
  }
  Staff* clerk = FindStaff(kStc, [](const Staff& s) { return s.clerk; });
  KYSO_RETURN_IF_ERROR(Account("clerk", "vanthu.stc", "agency_officer", departments_[kStc].org.id,
                               clerk->person_id, clerk->full_name + " (Văn thư, Sở Tài chính)",
                               true)
                           .status());
  KYSO_ASSIGN_OR_RETURN(clerk_, Principal("vanthu.stc"));
  KYSO_RETURN_IF_ERROR(Account("delegate_officer", "uyquyen.vp", "delegate_officer",
                               departments_[kVp].org.id, std::nullopt,
                               "Cán bộ Văn phòng UBND tỉnh (được ủy quyền)", true)
                           .status());
  // The subscriber: an officer of Sở Tài chính's budget division.
  Staff* subscriber = FindStaff(kStc, [](const Staff& s) {
    return s.position == "Chuyên viên" && s.unit_name == "Phòng Quản lý ngân sách";
  });
  if (subscriber == nullptr)
    subscriber = FindStaff(kStc, [](const Staff& s) { return !s.leader && !s.clerk; });
  KYSO_RETURN_IF_ERROR(Account("subscriber", "thuebao", "subscriber", subscriber->unit_id,
                               subscriber->person_id, subscriber->full_name, true)
                           .status());
  KYSO_ASSIGN_OR_RETURN(subscriber_, Principal("thuebao"));
  // The delegation: renewals, changes of information and token restores of the whole province
  // are handled by the provincial office (Nghị định 68 Điều 3 khoản 3).
  KYSO_RETURN_IF_ERROR(registry_
                           .CreateDelegation(operator_, departments_[kVp].org.id, province_.id,
                                             {"renewal", "change_info", "device_restore"})
                           .status());
  KYSO_ASSIGN_OR_RETURN(delegate_, Principal("uyquyen.vp"));
  return Status::Ok();
}

// --- certificates -------------------------------------------------------------------------

Result<Bytes> Builder::Csr(const std::string& slashed, std::optional<crypto::PrivateKey>* key_out) {
  KYSO_ASSIGN_OR_RETURN(auto spec, crypto::KeySpec::Parse("ec:P-256"));
  KYSO_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(spec));
  KYSO_ASSIGN_OR_RETURN(x509::Name name, x509::Name::ParseSlashed(slashed));
  KYSO_ASSIGN_OR_RETURN(Bytes der, x509::BuildCsr(name, key));
  if (key_out != nullptr) *key_out = std::move(key);
  return der;
}

std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '/' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string Builder::PersonSubject(const Staff& s) const {
  std::string subject =
      "/C=VN/L=" + std::string(kProvince) + "/O=" + Escape(departments_[s.department].org.name);
  if (!s.unit_name.empty()) subject += "/OU=" + Escape(s.unit_name);
  if (s.leader) subject += "/title=" + Escape(s.position);
  return subject + "/CN=" + Escape(s.full_name) + "/UID=CCCD:" + s.personal_id +
         "/emailAddress=" + s.email;
}

Status Builder::Certificates() {
  // About 85 % of the staff hold a certificate (the rest are "registered, not issued", seed
  // 001's statistics); every department holds its seal. Validity: a few expire within 30 days,
  // some within 60 or 90, the rest in one to five years.
  std::vector<ca::IssueRequest> batch;
  std::vector<Staff*> holders;
  int reserved = 0;
  for (Staff& s : staff_) {
    // The subscriber's certificate comes through the workflow (Requests), and so do those of a
    // few more people of Sở Tài chính, whose requests its officer's queue shows.
    if (s.person_id == subscriber_.person_id) continue;
    if (s.department == 1 && !s.leader && !s.clerk && reserved < 6) {
      ++reserved;
      continue;
    }
    if (!s.leader && !s.clerk && !rnd_.Chance(85)) continue;
    ca::IssueRequest r;
    KYSO_ASSIGN_OR_RETURN(r.csr, Csr(PersonSubject(s)));
    r.profile = s.leader ? "authority" : "official";
    const int roll = rnd_.Below(100);
    r.days = roll < 8    ? rnd_.Between(5, 28)
             : roll < 14 ? rnd_.Between(35, 88)
                         : rnd_.Between(365, 1826);
    r.owner_id = s.person_id;
    r.organization_id = s.department_id;
    batch.push_back(std::move(r));
    holders.push_back(&s);
  }
  const size_t people_count = batch.size();
  std::vector<crypto::PrivateKey> seal_keys;
  for (const Department& d : departments_) {
    ca::IssueRequest r;
    std::optional<crypto::PrivateKey> key;
    KYSO_ASSIGN_OR_RETURN(r.csr,
                          Csr("/C=VN/L=" + std::string(kProvince) + "/O=" + kProvinceBody +
                                  "/CN=" + Escape(d.org.name) + "/UID=MST:" + d.tax_code +
                                  "/UID=MNS:" + d.budget_code + "/emailAddress=" + d.org.email,
                              &key));
    r.profile = "organization";
    r.organization_id = d.org.id;
    batch.push_back(std::move(r));
    seal_keys.push_back(std::move(*key));
  }
  KYSO_ASSIGN_OR_RETURN(auto issued, inst_.authority().IssueBatch(batch));
  for (size_t i = 0; i < people_count; ++i) holders[i]->certificate = issued[i].record;
  // Sở Tài chính's seal is the clerk's server-held key.
  seal_key_ = std::move(seal_keys[1]);
  seal_certificate_ = issued[people_count + 1].record;

  // Revocations the CA operator carried out from paper requests before the demo's requests.
  struct Revocation {
    store::RevocationReason reason;
    int invalid_days_ago;  // 0: no invalidity date
  };
  const std::vector<Revocation> revocations = {
      {store::RevocationReason::kKeyCompromise, 3},
      {store::RevocationReason::kKeyCompromise, 0},
      {store::RevocationReason::kAffiliationChanged, 0},
      {store::RevocationReason::kCessationOfOperation, 0},
      {store::RevocationReason::kPrivilegeWithdrawn, 0},
      {store::RevocationReason::kUnspecified, 0},
      {store::RevocationReason::kAffiliationChanged, 0},
  };
  size_t next = 0;
  for (const Revocation& rv : revocations) {
    // Spread over the departments other than Sở Tài chính, whose requests the demo uses.
    Staff* victim = nullptr;
    for (; next < staff_.size() && victim == nullptr; ++next) {
      Staff& s = staff_[(next * 37) % staff_.size()];
      if (s.certificate && s.certificate->status == store::CertificateStatus::kValid && !s.leader &&
          !s.clerk && s.department != 1 && s.certificate->not_after > now_ + 90 * kDay) {
        victim = &s;
      }
    }
    if (victim == nullptr) break;
    ca::RevokeRequest req;
    req.serial = victim->certificate->serial_hex;
    req.reason = rv.reason;
    if (rv.invalid_days_ago > 0) req.invalidity_date = now_ - rv.invalid_days_ago * kDay;
    KYSO_ASSIGN_OR_RETURN(victim->certificate, inst_.authority().Revoke(req));
    // A lost token is re-issued with a new key (Mẫu 09, then a new certificate).
    if (rv.reason == store::RevocationReason::kKeyCompromise && rv.invalid_days_ago > 0) {
      KYSO_ASSIGN_OR_RETURN(Bytes csr, Csr(PersonSubject(*victim)));
      KYSO_ASSIGN_OR_RETURN(auto reissued, inst_.authority().Reissue(
                                               {"", victim->certificate->serial_hex, csr, 1095}));
      victim->certificate = reissued.record;
    }
  }
  return Status::Ok();
}

// --- requests -----------------------------------------------------------------------------

json Builder::PersonForm(const Staff& s, const std::string& csr_pem) const {
  json form = {
      {"full_name", s.full_name},
      {"personal_id", s.personal_id},
      {"position", s.position},
      {"unit", s.unit_name.empty() ? departments_[s.department].org.name
                                   : s.unit_name + ", " + departments_[s.department].org.name},
      {"email", s.email},
      {"mobile", s.mobile},
      {"province", kProvince},
      {"csr", csr_pem}};
  if (s.leader) form["profile"] = "authority";
  return form;
}

Result<store::RequestRecord> Builder::Request(ra::Registry& reg, const ra::Principal& by,
                                              const std::string& kind, const Staff* person,
                                              const store::CertificateRecord* cert, json form,
                                              std::vector<Step> steps) {
  ra::NewRequest req;
  req.kind = kind;
  req.organization_id = person ? person->department_id : departments_[1].org.id;
  if (person) {
    req.person_id = person->person_id;
    used_people_.insert(person->person_id);
  }
  if (cert) {
    req.certificate_id = cert->id;
    if (!person && cert->organization_id) req.organization_id = *cert->organization_id;
    used_certificates_.insert(cert->id);
  }
  req.form = std::move(form);
  KYSO_ASSIGN_OR_RETURN(auto created, reg.CreateRequest(by, req));
  store::RequestRecord r = created.record;
  for (const Step& step : steps) {
    ra::Registry& at = step.reg ? *step.reg : registry_;
    if (step.action == "submit") {
      KYSO_ASSIGN_OR_RETURN(r, at.Submit(*step.by, r.id, {}, r.version));
    } else if (step.action == "execute") {
      KYSO_ASSIGN_OR_RETURN(r, at.Execute(*step.by, r.id, r.version));
    } else {
      KYSO_ASSIGN_OR_RETURN(r, at.Transition(*step.by, r.id, step.action, step.reason, r.version));
    }
  }
  return r;
}

Result<store::RequestRecord> Builder::NewIndividual(ra::Registry& reg, const ra::Principal& by,
                                                    Staff& s, std::vector<Step> steps) {
  KYSO_ASSIGN_OR_RETURN(Bytes csr, Csr(PersonSubject(s)));
  KYSO_ASSIGN_OR_RETURN(
      auto r, Request(reg, by, "new_individual", &s, nullptr,
                      PersonForm(s, ToPem("CERTIFICATE REQUEST", csr)), std::move(steps)));
  if (r.result_certificate_id) {
    KYSO_ASSIGN_OR_RETURN(auto tx, inst_.db().Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(s.certificate, tx->GetCertificateById(*r.result_certificate_id));
  }
  return r;
}

Status Builder::Requests() {
  ra::Registry* past = &past_registry_;
  const ra::Principal* op = &operator_;
  const ra::Principal* dg = &delegate_;
  // People of a department without a certificate, and valid certificates not yet used by a
  // request, in a fixed order.
  auto without_cert = [&](size_t d) -> Staff* {
    return FindStaff(d, [&](const Staff& s) {
      return !s.certificate && !s.leader && !used_people_.count(s.person_id);
    });
  };
  auto with_cert = [&](size_t d, bool expiring) -> Staff* {
    return FindStaff(d, [&](const Staff& s) {
      if (!s.certificate || s.certificate->status != store::CertificateStatus::kValid) return false;
      if (used_certificates_.count(s.certificate->id) || used_people_.count(s.person_id) ||
          s.person_id == subscriber_.person_id || s.person_id == clerk_.person_id) {
        return false;
      }
      return expiring == (s.certificate->not_after < now_ + 30 * kDay);
    });
  };
  auto need = [](Staff* s, const char* what) -> Status {
    return s ? Status::Ok()
             : FailedPrecondition("demo.no_candidate", std::string("no staff member for ") + what);
  };
  auto renewal_form = [](const char* reason) { return json{{"reason", reason}, {"days", 1095}}; };
  auto revocation_form = [](const char* reason, const char* why) {
    return json{{"reason", reason}, {"explanation", why}};
  };

  // Sở Tài chính: its officer's queue has a request in every state.
  {
    const size_t d = 1;
    const ra::Principal* off = &*departments_[d].officer;
    Staff* s = nullptr;
    // The subscriber's own certificate came through the workflow: Mẫu 01, approved, executed.
    Staff* sub = FindStaff(d, [&](const Staff& x) { return x.person_id == subscriber_.person_id; });
    KYSO_RETURN_IF_ERROR(need(sub, "the subscriber"));
    KYSO_RETURN_IF_ERROR(NewIndividual(*past, *off, *sub,
                                       {{"submit", off, "", past},
                                        {"review", op, "", past},
                                        {"approve", op, ""},
                                        {"execute", op, ""}})
                             .status());
    // draft
    s = without_cert(d);
    KYSO_RETURN_IF_ERROR(need(s, "a draft"));
    KYSO_RETURN_IF_ERROR(NewIndividual(registry_, *off, *s, {}).status());
    // submitted, overdue
    s = without_cert(d);
    KYSO_RETURN_IF_ERROR(need(s, "an overdue submission"));
    KYSO_RETURN_IF_ERROR(NewIndividual(*past, *off, *s, {{"submit", off, "", past}}).status());
    // submitted today: a renewal of an expiring certificate, routed to the delegate
    s = with_cert(d, true);
    if (s) {
      KYSO_RETURN_IF_ERROR(Request(registry_, *off, "renewal", s, &*s->certificate,
                                   renewal_form("Chứng thư số sắp hết hạn, tiếp tục sử dụng để ký "
                                                "văn bản điện tử"),
                                   {{"submit", off, ""}})
                               .status());
    }
    // under review by the CA operator, overdue: a revocation (the person moved away)
    s = with_cert(d, false);
    KYSO_RETURN_IF_ERROR(need(s, "a revocation"));
    KYSO_RETURN_IF_ERROR(Request(*past, *off, "revocation", s, &*s->certificate,
                                 revocation_form("affiliationChanged",
                                                 "Điều động công tác sang đơn vị khác ngoài tỉnh"),
                                 {{"submit", off, "", past}, {"review", op, "", past}})
                             .status());
    // approved, waiting for execution
    s = without_cert(d);
    KYSO_RETURN_IF_ERROR(need(s, "an approval"));
    KYSO_RETURN_IF_ERROR(
        NewIndividual(registry_, *off, *s,
                      {{"submit", off, ""}, {"review", op, ""}, {"approve", op, ""}})
            .status());
    // executed revocation: a lost token (Mẫu 09)
    s = with_cert(d, false);
    KYSO_RETURN_IF_ERROR(need(s, "a lost token"));
    KYSO_RETURN_IF_ERROR(
        Request(*past, *off, "lost_device", s, &*s->certificate,
                {{"device_serial", "VGCA-" + rnd_.Digits(8)},
                 {"lost_on",
                  ra::WorkingCalendar::FormatDay(ra::WorkingCalendar::DayOf(now_ - 14 * kDay))},
                 {"circumstances", "Mất túi xách có thiết bị lưu khóa bí mật khi đi công tác"}},
                {{"submit", off, "", past},
                 {"review", op, "", past},
                 {"approve", op, ""},
                 {"execute", op, ""}})
            .status());
    // executed renewal, by the delegate
    s = with_cert(d, true);
    if (s == nullptr) s = with_cert(d, false);
    KYSO_RETURN_IF_ERROR(need(s, "a renewal"));
    KYSO_RETURN_IF_ERROR(Request(*past, *off, "renewal", s, &*s->certificate,
                                 renewal_form("Gia hạn chứng thư số hết hạn trong tháng"),
                                 {{"submit", off, "", past},
                                  {"review", dg, "", past},
                                  {"approve", dg, ""},
                                  {"execute", dg, ""}})
                             .status());
    // rejected
    s = without_cert(d);
    KYSO_RETURN_IF_ERROR(need(s, "a rejection"));
    KYSO_RETURN_IF_ERROR(
        NewIndividual(registry_, *off, *s,
                      {{"submit", off, ""},
                       {"reject", op,
                        "Người đề nghị không thuộc đối tượng được cấp chứng thư số theo Điều 3 "
                        "Nghị định 68/2024/NĐ-CP"}})
            .status());
    // returned by the delegate for correction: a change of information
    s = with_cert(d, false);
    KYSO_RETURN_IF_ERROR(need(s, "a change of information"));
    {
      Staff changed = *s;
      changed.position = "Chuyên viên chính";
      KYSO_ASSIGN_OR_RETURN(Bytes csr, Csr(PersonSubject(changed)));
      KYSO_RETURN_IF_ERROR(
          Request(registry_, *off, "change_info", s, &*s->certificate,
                  {{"changes", "Thay đổi chức danh: Chuyên viên chính"},
                   {"csr", ToPem("CERTIFICATE REQUEST", csr)}},
                  {{"submit", off, ""},
                   {"return", dg, "Thiếu quyết định nâng ngạch công chức kèm theo hồ sơ"}})
              .status());
    }
    // cancelled
    s = with_cert(d, false);
    KYSO_RETURN_IF_ERROR(need(s, "a cancellation"));
    KYSO_RETURN_IF_ERROR(Request(registry_, *off, "device_restore", s, &*s->certificate,
                                 {{"device_serial", "VGCA-" + rnd_.Digits(8)},
                                  {"reason", "Nhập sai mã PIN quá số lần cho phép"}},
                                 {{"cancel", off, "Thiết bị đã tự mở khóa bằng mã PUK"}})
                             .status());
    // the subscriber's own draft: a report of a locked token
    if (sub->certificate) {
      KYSO_RETURN_IF_ERROR(Request(registry_, subscriber_, "device_restore", sub,
                                   &*sub->certificate,
                                   {{"device_serial", "VGCA-" + rnd_.Digits(8)},
                                    {"reason", "Thiết bị bị khóa do nhập sai mã PIN"}},
                                   {})
                               .status());
    }
  }

  // The other departments: a mix, drawn from the seed.
  for (size_t d = 0; d < departments_.size(); ++d) {
    if (d == 1) continue;
    const ra::Principal* off = &*departments_[d].officer;
    const int n = d == 4 ? 5 : rnd_.Between(1, 3);
    for (int k = 0; k < n; ++k) {
      const int pick = (k + static_cast<int>(d)) % 5;
      const bool overdue = rnd_.Chance(40);
      ra::Registry& reg = overdue ? *past : registry_;
      ra::Registry* at = overdue ? past : nullptr;
      if (pick == 0) {  // new certificate: submitted, or under review
        Staff* s = without_cert(d);
        if (!s) continue;
        std::vector<Step> steps = {{"submit", off, "", at}};
        if (rnd_.Chance(50)) steps.push_back({"review", op, "", at});
        KYSO_RETURN_IF_ERROR(NewIndividual(reg, *off, *s, steps).status());
      } else if (pick == 1) {  // renewal of an expiring certificate: with the delegate
        Staff* s = with_cert(d, true);
        if (!s) s = with_cert(d, false);
        if (!s) continue;
        KYSO_RETURN_IF_ERROR(Request(reg, *off, "renewal", s, &*s->certificate,
                                     renewal_form("Chứng thư số sắp hết hạn"),
                                     {{"submit", off, "", at}})
                                 .status());
      } else if (pick == 2) {  // revocation on retirement, executed
        Staff* s = with_cert(d, false);
        if (!s) continue;
        KYSO_RETURN_IF_ERROR(
            Request(*past, *off, "revocation", s, &*s->certificate,
                    revocation_form("cessationOfOperation", "Nghỉ hưu theo chế độ"),
                    {{"submit", off, "", past},
                     {"review", op, "", past},
                     {"approve", op, ""},
                     {"execute", op, ""}})
                .status());
      } else if (pick == 3) {  // token restore, executed by the delegate
        Staff* s = with_cert(d, false);
        if (!s) continue;
        KYSO_RETURN_IF_ERROR(
            Request(
                registry_, *off, "device_restore", s, &*s->certificate,
                {{"device_serial", "VGCA-" + rnd_.Digits(8)},
                 {"reason", "Thiết bị bị khóa do nhập sai mã PIN"}},
                {{"submit", off, ""}, {"review", dg, ""}, {"approve", dg, ""}, {"execute", dg, ""}})
                .status());
      } else {  // a draft, or a request returned for correction
        Staff* s = without_cert(d);
        if (!s) continue;
        std::vector<Step> steps;
        if (rnd_.Chance(50)) {
          steps = {{"submit", off, ""},
                   {"return", op, "Số CCCD trên tờ khai không khớp với bản sao đính kèm"}};
        }
        KYSO_RETURN_IF_ERROR(NewIndividual(registry_, *off, *s, steps).status());
      }
    }
  }

  // A retirement in Sở Nội vụ: the person's status change opens the revocation drafts.
  if (Staff* s = with_cert(2, false)) {
    KYSO_ASSIGN_OR_RETURN(auto person, registry_.GetPerson(admin_, s->person_id));
    KYSO_RETURN_IF_ERROR(registry_
                             .SetPersonStatus(*departments_[2].officer, s->person_id, "retired",
                                              person.version, "Nghỉ hưu từ ngày 01 tháng này")
                             .status());
    used_certificates_.insert(s->certificate->id);
  }
  return Status::Ok();
}

// --- the clerk's server-held key ---------------------------------------------------------

Status Builder::SigningKey() {
  KeyMaterial material{std::move(*seal_key_), {}};
  KYSO_ASSIGN_OR_RETURN(auto tx, inst_.db().Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(auto cert_record, tx->GetCertificateById(seal_certificate_->id));
  KYSO_ASSIGN_OR_RETURN(auto cert, x509::Certificate::FromDer(cert_record.der));
  KYSO_ASSIGN_OR_RETURN(auto ca, tx->GetCa(cert_record.issuer_ca_id));
  KYSO_ASSIGN_OR_RETURN(auto ca_cert, x509::Certificate::FromDer(ca.certificate_der));
  tx.reset();
  material.certificates = {std::move(cert), std::move(ca_cert)};
  out_.signing_key = "bacgiang-stc";
  // The key belongs to Sở Tài chính, and its clerk is the account the body authorized.
  SigningKeys keys(&inst_);
  return keys.Add(out_.signing_key, material,
                  SigningKeyOwner{departments_[1].org.id, {"vanthu.stc"}});
}

// --- output -------------------------------------------------------------------------------

Status Builder::WriteAccountsFile() {
  out_.accounts_file = inst_.data_dir() + "/demo-accounts.txt";
  std::string text =
      "# kyso demo accounts (kyso init --demo). Secrets: keep this file private (mode 0600).\n"
      "# Log in at " +
      inst_.config().publication.base_url +
      "/ or with POST /api/v1/auth/login.\n"
      "# clerk (văn thư) and other_agency_officer are agency_officer accounts; the clerk may use\n"
      "# the server-held key of Sở Tài chính. other_agency_officer (Sở Y tế) sees nothing of\n"
      "# Sở Tài chính: for negative tests.\n"
      "# role username password\n";
  for (const DemoAccount& a : out_.accounts) {
    text += a.role + " " + a.username + " " + a.password + "\n";
  }
  return WriteNewFile(out_.accounts_file, AsBytes(text), 0600);
}

Status Builder::Count() {
  KYSO_ASSIGN_OR_RETURN(auto tx, inst_.db().Begin(store::TransactionMode::kRead));
  store::OrganizationFilter orgs;
  orgs.limit = 10000;
  KYSO_ASSIGN_OR_RETURN(auto all_orgs, tx->ListOrganizations(orgs));
  out_.organizations = static_cast<int64_t>(all_orgs.size());
  store::PersonFilter people;
  people.limit = 100000;
  KYSO_ASSIGN_OR_RETURN(auto all_people, tx->ListPeople(people));
  out_.people = static_cast<int64_t>(all_people.size());
  store::CertificateFilter f;
  f.status = store::CertificateStatus::kValid;
  f.profile.reset();
  // Subscriber certificates only: the CA's own service certificates are not the directory's.
  int64_t valid = 0, expiring = 0, revoked = 0;
  for (const char* profile : {"individual", "authority", "official", "organization"}) {
    f.profile = profile;
    f.status = store::CertificateStatus::kValid;
    f.expires_before.reset();
    KYSO_ASSIGN_OR_RETURN(int64_t v, tx->CountCertificates(f));
    valid += v;
    f.expires_before = now_ + 30 * kDay;
    KYSO_ASSIGN_OR_RETURN(int64_t e, tx->CountCertificates(f));
    expiring += e;
    f.expires_before.reset();
    f.status = store::CertificateStatus::kRevoked;
    KYSO_ASSIGN_OR_RETURN(int64_t r, tx->CountCertificates(f));
    revoked += r;
  }
  out_.certificates = {{"valid", valid}, {"expiring_30d", expiring}, {"revoked", revoked}};
  for (std::string_view state : ra::AllStates()) {
    store::RequestFilter rf;
    rf.states = {std::string(state)};
    KYSO_ASSIGN_OR_RETURN(out_.requests[std::string(state)], tx->CountRequests(rf));
  }
  store::RequestFilter overdue;
  overdue.states = {"submitted", "under_review", "approved"};
  overdue.due_before = now_;
  KYSO_ASSIGN_OR_RETURN(out_.requests["overdue"], tx->CountRequests(overdue));
  return Status::Ok();
}

Result<DemoDirectory> Builder::Build(const std::string& admin_password) {
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, inst_.db().Begin(store::TransactionMode::kRead));
    store::OrganizationFilter any;
    any.limit = 1;
    KYSO_ASSIGN_OR_RETURN(auto orgs, tx->ListOrganizations(any));
    if (!orgs.empty()) {
      return FailedPrecondition("demo.not_empty", "the demo directory exists already");
    }
  }
  KYSO_ASSIGN_OR_RETURN(admin_, Principal("admin"));
  out_.accounts.push_back({"admin", "admin", admin_password, "Quản trị hệ thống (demo)"});
  KYSO_RETURN_IF_ERROR(Bodies().WithContext("demo bodies"));
  KYSO_RETURN_IF_ERROR(People().WithContext("demo staff"));
  KYSO_RETURN_IF_ERROR(Accounts().WithContext("demo accounts"));
  KYSO_RETURN_IF_ERROR(Certificates().WithContext("demo certificates"));
  KYSO_RETURN_IF_ERROR(Requests().WithContext("demo requests"));
  KYSO_RETURN_IF_ERROR(SigningKey().WithContext("demo signing key"));
  KYSO_RETURN_IF_ERROR(WriteAccountsFile());
  // The CRL published at init lists none of the demo's revocations: publish a fresh one.
  const std::string issuing = inst_.config().hierarchy.issuing.name;
  KYSO_ASSIGN_OR_RETURN(auto crl, inst_.authority().GenerateCrl(issuing, false));
  KYSO_RETURN_IF_ERROR(inst_.PublishCrl(issuing, crl));
  KYSO_RETURN_IF_ERROR(Count());
  return std::move(out_);
}

}  // namespace

Result<DemoDirectory> CreateDemoDirectory(Instance& instance, const std::string& admin_password,
                                          uint64_t seed) {
  Builder builder(instance, seed);
  return builder.Build(admin_password);
}

}  // namespace kyso::app
