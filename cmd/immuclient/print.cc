#include "print.h"

#include <cstdio>
#include <ctime>

namespace immuclient {
namespace {

std::string Metadata(const immudb::KVMetadata& md) {
  std::string out = "{";
  auto add = [&out](const std::string& part) { out += (out.size() > 1 ? ", " : "") + part; };
  if (md.deleted) add("deleted: true");
  if (md.expires_at) add("expiresAt: " + std::to_string(*md.expires_at));
  if (md.non_indexable) add("nonIndexable: true");
  return out + "}";
}

}  // namespace

std::string FormatKV(const immudb::client::Entry& e, bool verified, bool value_only) {
  if (value_only) return e.value + "\n";
  std::string out = "tx:       " + std::to_string(e.tx) + "\n";
  if (e.revision != 0) out += "rev:      " + std::to_string(e.revision) + "\n";
  out += "key:      " + e.key + "\n";
  if (!e.md.empty()) out += "metadata: " + Metadata(e.md) + "\n";
  out += "value:    " + e.value + "\n";
  if (verified) out += "verified: true\n";
  return out;
}

std::string FormatEntries(const std::vector<immudb::client::Entry>& entries, bool value_only) {
  if (entries.empty()) return "no entries\n";
  std::string out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && !value_only) out += "\n";
    out += FormatKV(entries[i], false, value_only);
  }
  return out;
}

std::string FormatSetItem(const std::string& set, const std::string& key, double score,
                          const immudb::TxHeader& header, bool verified) {
  char score_text[64];
  std::snprintf(score_text, sizeof(score_text), "%f", score);
  return "tx:\t\t" + std::to_string(header.id) + "\nset:\t\t" + set + "\nreferenced key:\t\t" +
         key + "\nscore:\t\t" + score_text + "\nhash:\t\t" + immudb::ToHex(header.eh) +
         "\nverified:\t" + (verified ? "true" : "false") + "\n";
}

std::string FormatTime(int64_t unix_seconds, int nanos) {
  const time_t ts = static_cast<time_t>(unix_seconds);
  struct tm tm_buf;
  localtime_r(&ts, &tm_buf);
  char date[32], zone[32];
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm_buf);
  std::strftime(zone, sizeof(zone), "%z %Z", &tm_buf);
  std::string out = date;
  if (nanos > 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09d", nanos);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + " " + zone;
}

std::string FormatTx(const immudb::Tx& tx, bool verified) {
  auto alh = tx.header.Alh();
  std::string out = "tx:\t\t" + std::to_string(tx.header.id) + "\ntime:\t\t" +
                    FormatTime(tx.header.ts, 0) + "\nentries:\t" +
                    std::to_string(tx.header.nentries) + "\nhash:\t\t" +
                    (alh.ok() ? immudb::ToHex(*alh) : std::string("?")) + "\n";
  if (verified) out += "verified:\ttrue \n";
  return out;
}

std::string FormatState(const immudb::client::State& state) {
  if (state.tx_id == 0) return "database '" + state.db + "' is empty\n";
  return "database:  " + state.db + "\ntxID:      " + std::to_string(state.tx_id) +
         "\nhash:      " + immudb::ToHex(state.tx_hash) + "\n";
}

std::string FormatHealth(const immudb::schema::DatabaseHealthResponse& health) {
  const int64_t ms = health.lastrequestcompletedat();
  int64_t secs = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    secs -= 1;
  }
  return "pendingRequests:\t\t" + std::to_string(health.pendingrequests()) +
         "\nlastRequestCompletedAt:\t\t" + FormatTime(secs, static_cast<int>(rem) * 1000000) + "\n";
}

}  // namespace immuclient
