// Replays the JSON proof vectors in testdata/proofs (written by test/helpers/proofgen.cc,
// build/bin/immudb-proofgen): every "valid" case must verify and every "invalid" broken twin must
// not.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "immudb/verify.h"

namespace immudb::verify {
namespace {

// ---- A tiny JSON reader: enough for the vector files, nothing more ----

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // String contents, or a number's digits.
  std::vector<Json> items;
  std::map<std::string, Json> fields;

  const Json& operator[](const std::string& key) const {
    static const Json kMissing;
    auto it = fields.find(key);
    return it == fields.end() ? kMissing : it->second;
  }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view in) : in_(in) {}

  bool ParseDocument(Json* out) {
    if (!ParseValue(out, 0)) return false;
    SkipSpace();
    return pos_ == in_.size();
  }

 private:
  static constexpr int kMaxDepth = 16;

  void SkipSpace() {
    while (pos_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[pos_]))) pos_++;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == c) {
      pos_++;
      return true;
    }
    return false;
  }
  bool ConsumeWord(std::string_view w) {
    if (in_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }

  // Strings in the vectors are hex and plain names: no escapes are needed.
  bool ParseString(std::string* out) {
    if (!Consume('"')) return false;
    const size_t end = in_.find('"', pos_);
    if (end == std::string_view::npos) return false;
    *out = std::string(in_.substr(pos_, end - pos_));
    if (out->find('\\') != std::string::npos) return false;
    pos_ = end + 1;
    return true;
  }

  bool ParseValue(Json* out, int depth) {
    if (depth > kMaxDepth) return false;
    SkipSpace();
    if (pos_ >= in_.size()) return false;
    const char c = in_[pos_];
    if (c == '"') {
      out->kind = Json::Kind::kString;
      return ParseString(&out->text);
    }
    if (c == '[') {
      pos_++;
      out->kind = Json::Kind::kArray;
      if (Consume(']')) return true;
      do {
        out->items.emplace_back();
        if (!ParseValue(&out->items.back(), depth + 1)) return false;
      } while (Consume(','));
      return Consume(']');
    }
    if (c == '{') {
      pos_++;
      out->kind = Json::Kind::kObject;
      if (Consume('}')) return true;
      do {
        std::string key;
        if (!ParseString(&key) || !Consume(':')) return false;
        if (!ParseValue(&out->fields[key], depth + 1)) return false;
      } while (Consume(','));
      return Consume('}');
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      out->kind = Json::Kind::kNumber;
      const size_t start = pos_++;
      while (pos_ < in_.size() && std::isdigit(static_cast<unsigned char>(in_[pos_]))) pos_++;
      out->text = std::string(in_.substr(start, pos_ - start));
      return true;
    }
    if (ConsumeWord("null")) return true;
    out->kind = Json::Kind::kBool;
    if (ConsumeWord("true")) {
      out->boolean = true;
      return true;
    }
    return ConsumeWord("false");
  }

  std::string_view in_;
  size_t pos_ = 0;
};

// ---- Field conversion; any malformed field fails the test ----

uint64_t U64(const Json& j) {
  uint64_t v = 0;
  EXPECT_EQ(j.kind, Json::Kind::kNumber);
  auto [p, ec] = std::from_chars(j.text.data(), j.text.data() + j.text.size(), v);
  EXPECT_TRUE(ec == std::errc() && p == j.text.data() + j.text.size()) << j.text;
  return v;
}

int64_t I64(const Json& j) {
  int64_t v = 0;
  EXPECT_EQ(j.kind, Json::Kind::kNumber);
  auto [p, ec] = std::from_chars(j.text.data(), j.text.data() + j.text.size(), v);
  EXPECT_TRUE(ec == std::errc() && p == j.text.data() + j.text.size()) << j.text;
  return v;
}

Hash HashOf(const Json& j) {
  Hash h{};
  EXPECT_EQ(j.kind, Json::Kind::kString);
  EXPECT_TRUE(HashFromHex(j.text, &h)) << j.text;
  return h;
}

std::vector<Hash> Hashes(const Json& j) {
  EXPECT_EQ(j.kind, Json::Kind::kArray);
  std::vector<Hash> out;
  for (const Json& item : j.items) out.push_back(HashOf(item));
  return out;
}

TxHeader HeaderOf(const Json& j) {
  TxHeader h;
  h.id = U64(j["id"]);
  h.prev_alh = HashOf(j["prev_alh"]);
  h.ts = I64(j["ts"]);
  h.version = static_cast<uint16_t>(U64(j["version"]));
  h.nentries = static_cast<uint32_t>(U64(j["nentries"]));
  h.eh = HashOf(j["eh"]);
  h.bl_tx_id = U64(j["bl_tx_id"]);
  h.bl_root = HashOf(j["bl_root"]);
  return h;
}

LinearProof LinearOf(const Json& j) {
  LinearProof p;
  p.source_tx_id = U64(j["source_tx_id"]);
  p.target_tx_id = U64(j["target_tx_id"]);
  p.terms = Hashes(j["terms"]);
  return p;
}

DualProof DualOf(const Json& j) {
  DualProof p;
  p.source_tx_header = HeaderOf(j["source_header"]);
  p.target_tx_header = HeaderOf(j["target_header"]);
  p.inclusion_proof = Hashes(j["inclusion_proof"]);
  p.consistency_proof = Hashes(j["consistency_proof"]);
  p.target_bl_tx_alh = HashOf(j["target_bl_tx_alh"]);
  p.last_inclusion_proof = Hashes(j["last_inclusion_proof"]);
  p.linear_proof = LinearOf(j["linear_proof"]);
  const Json& adv = j["linear_advance_proof"];
  if (adv.kind == Json::Kind::kObject) {
    LinearAdvanceProof a;
    a.linear_proof_terms = Hashes(adv["linear_proof_terms"]);
    for (const Json& incl : adv["inclusion_proofs"].items)
      a.inclusion_proofs.push_back(Hashes(incl));
    p.linear_advance_proof = a;
  } else {
    EXPECT_EQ(adv.kind, Json::Kind::kNull);
  }
  return p;
}

// Runs the verifier a case names; false also for an unknown type.
bool Verify(const Json& j) {
  const std::string& type = j["type"].text;
  if (type == "htree_inclusion") {
    InclusionProof p{U64(j["leaf"]), U64(j["width"]), Hashes(j["terms"])};
    return VerifyHtreeInclusion(p, HashOf(j["digest"]), HashOf(j["root"]));
  }
  if (type == "aht_inclusion") {
    return VerifyInclusion(Hashes(j["terms"]), U64(j["i"]), U64(j["j"]), HashOf(j["leaf_hash"]),
                           HashOf(j["root"]));
  }
  if (type == "aht_last_inclusion") {
    return VerifyLastInclusion(Hashes(j["terms"]), U64(j["i"]), HashOf(j["leaf_hash"]),
                               HashOf(j["root"]));
  }
  if (type == "aht_consistency") {
    return VerifyConsistency(Hashes(j["terms"]), U64(j["i"]), U64(j["j"]), HashOf(j["root_i"]),
                             HashOf(j["root_j"]));
  }
  if (type == "linear") {
    return VerifyLinearProof(LinearOf(j["proof"]), U64(j["source_tx_id"]), U64(j["target_tx_id"]),
                             HashOf(j["source_alh"]), HashOf(j["target_alh"]));
  }
  if (type == "dual") {
    return VerifyDualProof(DualOf(j), U64(j["source_tx_id"]), U64(j["target_tx_id"]),
                           HashOf(j["source_alh"]), HashOf(j["target_alh"]));
  }
  ADD_FAILURE() << "unknown vector type '" << type << "'";
  return false;
}

std::vector<std::filesystem::path> VectorFiles() {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path root = std::filesystem::path(IMMUDB_SOURCE_DIR) / "testdata/proofs";
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ProofVectorsTest, ParserHandlesTheShapesUsed) {
  Json j;
  ASSERT_TRUE(
      JsonParser(R"({"a": [1, -2, "x"], "b": {"c": null, "d": true}, "e": []})").ParseDocument(&j));
  EXPECT_EQ(j["a"].items.size(), 3u);
  EXPECT_EQ(j["a"].items[1].text, "-2");
  EXPECT_EQ(j["b"]["c"].kind, Json::Kind::kNull);
  EXPECT_TRUE(j["b"]["d"].boolean);
  EXPECT_TRUE(j["e"].items.empty());
  for (const char* bad : {"{", "[1,]", "{\"a\" 1}", "\"x", "{} x", "nul"}) {
    Json k;
    EXPECT_FALSE(JsonParser(bad).ParseDocument(&k)) << bad;
  }
}

TEST(ProofVectorsTest, EveryVectorFileMatchesItsExpectation) {
  const std::vector<std::filesystem::path> files = VectorFiles();
  // Guards against an empty or misplaced directory passing vacuously.
  ASSERT_GE(files.size(), 300u) << "proof vectors missing; run build/bin/immudb-proofgen";
  std::map<std::string, std::pair<int, int>> per_type;  // type -> (valid, invalid)
  for (const std::filesystem::path& file : files) {
    std::ifstream f(file);
    std::stringstream buf;
    buf << f.rdbuf();
    Json j;
    ASSERT_TRUE(JsonParser(buf.str()).ParseDocument(&j)) << file;
    const std::string& expect = j["expect"].text;
    ASSERT_TRUE(expect == "valid" || expect == "invalid") << file;
    const bool valid = expect == "valid";
    EXPECT_EQ(Verify(j), valid) << file << " (" << j["mutation"].text << ")";
    (valid ? per_type[j["type"].text].first : per_type[j["type"].text].second)++;
  }
  for (const char* type : {"htree_inclusion", "aht_inclusion", "aht_last_inclusion",
                           "aht_consistency", "linear", "dual"}) {
    EXPECT_GE(per_type[type].first, 1) << type;
    EXPECT_GE(per_type[type].second, 5) << type;
  }
  EXPECT_EQ(per_type.size(), 6u);
}

}  // namespace
}  // namespace immudb::verify
