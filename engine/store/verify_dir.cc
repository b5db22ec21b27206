// Offline verification of a store directory. See verify_dir.h and the
// "Offline verification" section of docs/format/store.md.
#include "store/verify_dir.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "ahtree/ahtree_format.h"
#include "htree/htree.h"
#include "immudb/options.h"
#include "immudb/tx.h"
#include "store/log_format.h"
#include "store/segment_reader.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace immudb::store {

namespace {

// The format marker (docs/format/store.md).
constexpr const char* kMarkerFile = kFormatFile;

constexpr char kCommitLog[] = "commit log";
constexpr char kTxLog[] = "tx log";
constexpr char kValueLog[] = "value log";
constexpr char kAht[] = "AHT";

// Field offsets in a commit record (docs/format/commitlog.md).
constexpr uint64_t kRecTxOff = 16;
constexpr uint64_t kRecTxLen = 24;
constexpr uint64_t kRecVlogEnd = 28;
constexpr uint64_t kRecAlh = 36;
// Field offsets in a tx record's header, from the start of the payload
// (docs/format/txlog.md).
constexpr uint64_t kHdrTs = 8;
constexpr uint64_t kHdrVersion = 16;
constexpr uint64_t kHdrNEntries = 18;
constexpr uint64_t kHdrBlTxId = 22;
constexpr uint64_t kHdrBlRoot = 30;
constexpr uint64_t kHdrPrevAlh = 62;
constexpr uint64_t kHdrEh = 94;

// Values are hashed in chunks of this size, so no value is held whole.
constexpr size_t kValueChunk = 64 << 10;
// How many trailing commit records to look back over for the newest intact
// one (only used to tell a possible torn tail from deeper damage).
constexpr uint64_t kTailLookBack = 64;

std::string Num(uint64_t v) { return std::to_string(v); }

// The AHT rebuilt from the Alh values alone (proofs.md §4.1), with no code
// shared with engine/ahtree: blocks_[h], for every set bit h of the size, is
// the root of the perfect block of 2^h leaves that the bit stands for.
class AhtFrontier {
 public:
  uint64_t size() const { return size_; }
  // Root(size()), or Z32 for the empty tree (the BlRoot of tx 1).
  const Hash& root() const { return size_ == 0 ? ZeroHash() : root_; }

  // Adds leaf n = size() + 1 and sets *digests to R(m_d + 1, n) for
  // d = 0..popcount(n - 1): the digests the AHT record of leaf n must hold
  // (docs/format/ahtree.md). The last one is Root(n).
  void Append(const Hash& alh, std::vector<Hash>* digests) {
    digests->clear();
    Hash c = LeafHash(alh);
    digests->push_back(c);
    for (int h = 0; h < 64; h++) {
      if ((size_ >> h & 1) == 0) continue;
      c = NodeHash(blocks_[h], c);
      digests->push_back(c);
    }
    size_++;
    // n - 1 ends in t = ctz(n) one bits, so digest #t closes a perfect block
    // of 2^t leaves: the block of bit t of the new size.
    const int t = std::countr_zero(size_);
    blocks_[t] = (*digests)[t];
    root_ = c;
  }

 private:
  uint64_t size_ = 0;
  std::array<Hash, 64> blocks_{};
  Hash root_{};
};

class DirVerifier {
 public:
  DirVerifier(FileSystem* fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  Result<VerifyReport> Run() {
    if (!fs_->FileExists(dir_)) return Status::NotFound("no such directory: " + dir_);
    Status s = VerifyAll();
    if (!s.ok() && !report_.mismatch) return s;
    return std::move(report_);
  }

 private:
  Status VerifyAll();
  Status CheckMarker();
  Status OpenLog(const char* kind, const char* sub, const char* ext,
                 std::unique_ptr<SegmentReader>* out);
  void FindTornTailStart(uint64_t n);
  Status VerifyTx(uint64_t id);
  Status CheckCommitRecord(uint64_t id, CommitRecord* rec);
  Status CheckTxRecord(const CommitRecord& rec, Tx* tx);
  Status CheckHeaderAndEntries(const CommitRecord& rec, const Tx& tx);
  Status CheckValues(const CommitRecord& rec, const Tx& tx);
  Status CheckAhtRecord(uint64_t id, const Hash& alh);
  Status CheckTails(uint64_t n);
  // Where the next tx's values start: the end of the previous tx's values
  // (format 1) or of its record (format 2).
  uint64_t ValuesStart() const {
    return shared_ ? tx_end_ + (framed_ ? kTxValuesFrameSize : 0) : vlog_end_;
  }

  // Records the first mismatch and returns a Status that unwinds to Run.
  Status Fail(uint64_t tx_id, const char* kind, const SegmentReader& log, uint64_t off,
              std::string what) {
    return FailAt(tx_id, kind, log.FileOf(off), log.FileOffset(off), std::move(what));
  }
  Status FailAt(uint64_t tx_id, const char* kind, std::string file, uint64_t off,
                std::string what) {
    VerifyMismatch m;
    m.tx_id = tx_id;
    m.kind = kind;
    m.file = std::move(file);
    m.offset = off;
    m.what = std::move(what);
    m.maybe_torn_tail = in_tails_ || aht_tail_ || (tx_id != 0 && tx_id > torn_after_);
    Status s = Status::Corruption(m.ToString());
    report_.mismatch = std::move(m);
    return s;
  }

  FileSystem* const fs_;
  const std::string dir_;
  VerifyReport report_;
  std::unique_ptr<SegmentReader> clog_, txlog_, vlog_file_, aht_;
  // The log holding the values: vlog_file_ (format 1) or the tx log (format 2).
  SegmentReader* vlog_ = nullptr;
  bool shared_ = false;  // Formats 2 and 3: values and tx records in one log.
  bool framed_ = false;  // Format 3: each tx's values behind a length frame.
  AhtFrontier frontier_;
  // Txs after this may be a torn tail (see VerifyMismatch::maybe_torn_tail),
  // as may bytes past the last tx (checked once in_tails_).
  uint64_t torn_after_ = UINT64_MAX;
  bool in_tails_ = false;
  // The AHT is synced lazily (store.md): damage in its last AhtTornWindow
  // bytes, or missing leaves, may be a torn tail too.
  bool aht_tail_ = false;

  // Carried from each tx to the next: where its records end, and its Alh,
  // durable_upto and timestamp.
  uint64_t tx_end_ = 0;
  uint64_t vlog_end_ = 0;
  Hash prev_alh_ = EmptyHash();
  uint64_t durable_upto_ = 0;
  int64_t last_ts_ = INT64_MIN;
  // Values of txs <= this were discarded by truncation: not hashed.
  uint64_t truncated_upto_ = 0;

  std::string record_;                // The tx or AHT record being checked.
  std::vector<uint64_t> entry_offs_;  // Tx log offset of each of its entries.
  std::vector<Hash> entry_digests_;
  std::vector<Hash> aht_digests_;
};

Status DirVerifier::VerifyAll() {
  report_.last_alh = EmptyHash();
  IMMUDB_RETURN_IF_ERROR(CheckMarker());
  IMMUDB_RETURN_IF_ERROR(OpenLog(kCommitLog, "commit", "clog", &clog_));
  IMMUDB_RETURN_IF_ERROR(OpenLog(kTxLog, "tx", "tx", &txlog_));
  if (shared_) {
    if (fs_->FileExists(dir_ + "/val")) {
      return FailAt(
          0, "store", "val", 0,
          "a format " + std::string(framed_ ? "3" : "2") + " store has no value log directory");
    }
    vlog_ = txlog_.get();
  } else {
    IMMUDB_RETURN_IF_ERROR(OpenLog(kValueLog, "val", "val", &vlog_file_));
    vlog_ = vlog_file_.get();
  }
  IMMUDB_RETURN_IF_ERROR(OpenLog(kAht, "aht", ahtree::kFileExt, &aht_));
  const uint64_t n = clog_->size() / kCommitRecordSize;
  FindTornTailStart(n);
  // The durable mark of the last clean close (store.md), if any: it must
  // decode and name a tx of the chain with its Alh.
  const std::string mark_path = dir_ + "/" + kDurableFile;
  std::optional<std::pair<uint64_t, Hash>> mark;
  if (fs_->FileExists(mark_path)) {
    IMMUDB_ASSIGN_OR_RETURN(std::string content, ReadFileToString(fs_, mark_path));
    auto m = DecodeDurableMark(content);
    if (!m.ok()) return FailAt(0, "store", kDurableFile, 0, m.status().message());
    mark = *m;
    report_.bytes_checked += content.size();
  }
  // The truncation mark (truncation.md), if any: it must decode and name a tx
  // of the chain with its Alh and values end. Values of txs up to it are gone.
  const std::string trunc_path = dir_ + "/" + kTruncatedFile;
  std::optional<TruncationMark> trunc;
  if (fs_->FileExists(trunc_path)) {
    IMMUDB_ASSIGN_OR_RETURN(std::string content, ReadFileToString(fs_, trunc_path));
    auto m = DecodeTruncationMark(content);
    if (!m.ok()) return FailAt(0, "store", kTruncatedFile, 0, m.status().message());
    trunc = *m;
    truncated_upto_ = m->truncated_upto;
    report_.truncated_upto = m->truncated_upto;
    report_.bytes_checked += content.size();
  }
  for (uint64_t id = 1; id <= n; id++) {
    IMMUDB_RETURN_IF_ERROR(VerifyTx(id));
    report_.tx_count = id;
    report_.last_alh = prev_alh_;
    if (trunc && trunc->truncated_upto == id &&
        (trunc->alh != prev_alh_ || trunc->values_end != vlog_end_)) {
      return FailAt(id, "store", kTruncatedFile, 0,
                    "truncation mark does not match this tx (Alh or values end)");
    }
    if (mark && mark->first == id && mark->second != prev_alh_) {
      return FailAt(id, "store", kDurableFile, 8, "durable mark holds another Alh for this tx");
    }
  }
  if (trunc && trunc->truncated_upto > n) {
    return FailAt(0, "store", kTruncatedFile, 0,
                  "truncation mark names tx " + Num(trunc->truncated_upto) +
                      ", the commit log ends at tx " + Num(n) +
                      (framed_ ? " (format 3: after a crash the lazily synced commit log may "
                                 "lag; opening the store recovers it)"
                               : ""));
  }
  if (mark && mark->first > n) {
    return FailAt(
        0, "store", kDurableFile, 0,
        "durable mark names tx " + Num(mark->first) + ", the commit log ends at tx " + Num(n));
  }
  return CheckTails(n);
}

Status DirVerifier::CheckMarker() {
  const std::string path = dir_ + "/" + kMarkerFile;
  if (!fs_->FileExists(path)) {
    return FailAt(0, "store", kMarkerFile, 0, "format marker is missing (not a store directory?)");
  }
  IMMUDB_ASSIGN_OR_RETURN(uint64_t size, fs_->GetFileSize(path));
  if (size != kFormat2Line.size() && size != kFormat3Line.size()) {
    return FailAt(0, "store", kMarkerFile, 0, "format marker has the wrong size");
  }
  IMMUDB_ASSIGN_OR_RETURN(std::string content, ReadFileToString(fs_, path));
  if (content == kFormat1Line || content == kFormat2Line || content == kFormat3Line) {
    shared_ = content != kFormat1Line;
    framed_ = content == kFormat3Line;
    return Status::OK();
  }
  const std::string_view want = size == kFormat3Line.size() ? kFormat3Line : kFormat2Line;
  const size_t at = static_cast<size_t>(
      std::mismatch(content.begin(), content.end(), want.begin(), want.end()).first -
      content.begin());
  return FailAt(0, "store", kMarkerFile, at, "unknown or damaged format marker");
}

Status DirVerifier::OpenLog(const char* kind, const char* sub, const char* ext,
                            std::unique_ptr<SegmentReader>* out) {
  IMMUDB_ASSIGN_OR_RETURN(*out, SegmentReader::Open(fs_, dir_, sub, ext));
  std::string file, what;
  if (!(*out)->CheckLayout(&file, &what)) return FailAt(0, kind, file, 0, what);
  return Status::OK();
}

// Recovery checks every tx after the newest intact commit record's
// durable_upto and cuts a damaged one as a torn tail (store.md), so damage
// there may come from a crash rather than from the disk or a person.
void DirVerifier::FindTornTailStart(uint64_t n) {
  torn_after_ = n;
  for (uint64_t id = n; id > 0 && n - id < kTailLookBack; id--) {
    uint8_t buf[kCommitRecordSize];
    if (!clog_->ReadAt((id - 1) * kCommitRecordSize, sizeof(buf), reinterpret_cast<char*>(buf))
             .ok()) {
      return;
    }
    auto rec = DecodeCommitRecord(buf);
    if (rec.ok() && rec->tx_id == id) {
      torn_after_ = rec->durable_upto;
      return;
    }
  }
}

Status DirVerifier::VerifyTx(uint64_t id) {
  CommitRecord rec;
  IMMUDB_RETURN_IF_ERROR(CheckCommitRecord(id, &rec));
  Tx tx;
  IMMUDB_RETURN_IF_ERROR(CheckTxRecord(rec, &tx));
  IMMUDB_RETURN_IF_ERROR(CheckHeaderAndEntries(rec, tx));
  IMMUDB_RETURN_IF_ERROR(CheckValues(rec, tx));
  IMMUDB_RETURN_IF_ERROR(CheckAhtRecord(id, rec.alh));
  tx_end_ = rec.tx_off + rec.tx_len;
  vlog_end_ = rec.vlog_end;
  prev_alh_ = rec.alh;
  durable_upto_ = rec.durable_upto;
  last_ts_ = tx.header.ts;
  return Status::OK();
}

Status DirVerifier::CheckCommitRecord(uint64_t id, CommitRecord* rec) {
  const uint64_t off = (id - 1) * kCommitRecordSize;
  uint8_t buf[kCommitRecordSize];
  IMMUDB_RETURN_IF_ERROR(clog_->ReadAt(off, sizeof(buf), reinterpret_cast<char*>(buf)));
  auto r = DecodeCommitRecord(buf);
  if (!r.ok()) return Fail(id, kCommitLog, *clog_, off, "commit record: " + r.status().message());
  *rec = *r;
  if (rec->tx_id != id) {
    return Fail(id, kCommitLog, *clog_, off, "commit record holds tx " + Num(rec->tx_id));
  }
  if (rec->durable_upto < durable_upto_) {
    return Fail(id, kCommitLog, *clog_, off + 8, "durable_upto goes backwards");
  }
  // Format 2: the tx's values lie between the previous record and its own.
  const uint64_t want_tx_off = shared_ ? rec->vlog_end : tx_end_;
  if (rec->tx_off != want_tx_off) {
    return Fail(id, kCommitLog, *clog_, off + kRecTxOff,
                "tx record offset " + Num(rec->tx_off) +
                    (shared_ ? " is not where the tx's values end ("
                             : " is not where the previous one ended (") +
                    Num(want_tx_off) + ")");
  }
  if (rec->tx_len < kTxRecordPrefixSize + kTxHeaderSize ||
      rec->tx_len > txlog_->size() - rec->tx_off) {
    return Fail(id, kCommitLog, *clog_, off + kRecTxLen,
                "tx record length " + Num(rec->tx_len) + " does not fit the tx log (" +
                    Num(txlog_->size()) + " bytes)");
  }
  if (rec->vlog_end < ValuesStart() || rec->vlog_end > vlog_->size()) {
    return Fail(id, kCommitLog, *clog_, off + kRecVlogEnd,
                "value log end " + Num(rec->vlog_end) + " is outside [" + Num(ValuesStart()) +
                    ", " + Num(vlog_->size()) + "]");
  }
  report_.bytes_checked += kCommitRecordSize;
  if (framed_) {
    // Format 3: the frame before the values holds their total length.
    uint8_t frame[kTxValuesFrameSize];
    IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(tx_end_, sizeof(frame), reinterpret_cast<char*>(frame)));
    const uint64_t want = rec->vlog_end - ValuesStart();
    if (GetU64BE(frame) != want) {
      return Fail(id, kTxLog, *txlog_, tx_end_,
                  "values frame holds " + Num(GetU64BE(frame)) + " bytes, the tx's values take " +
                      Num(want));
    }
    report_.bytes_checked += sizeof(frame);
  }
  return Status::OK();
}

Status DirVerifier::CheckTxRecord(const CommitRecord& rec, Tx* tx) {
  const uint64_t id = rec.tx_id;
  record_.resize(rec.tx_len);
  IMMUDB_RETURN_IF_ERROR(txlog_->ReadAt(rec.tx_off, rec.tx_len, record_.data()));
  const auto* p = reinterpret_cast<const uint8_t*>(record_.data());
  const std::string_view payload(record_.data() + kTxRecordPrefixSize,
                                 rec.tx_len - kTxRecordPrefixSize);
  if (GetU32BE(p) != payload.size()) {
    return Fail(id, kTxLog, *txlog_, rec.tx_off,
                "tx record length " + Num(GetU32BE(p)) + " does not match the commit record's");
  }
  if (crc32c::Unmask(GetU32BE(p + 4)) != crc32c::Value(payload.data(), payload.size())) {
    return Fail(id, kTxLog, *txlog_, rec.tx_off + 4, "tx record checksum mismatch");
  }
  auto decoded = DecodeTxPayload(payload);
  if (!decoded.ok()) {
    return Fail(id, kTxLog, *txlog_, rec.tx_off + kTxRecordPrefixSize,
                "tx record does not decode: " + decoded.status().message());
  }
  *tx = std::move(decoded).value();
  report_.bytes_checked += rec.tx_len;
  return Status::OK();
}

Status DirVerifier::CheckHeaderAndEntries(const CommitRecord& rec, const Tx& tx) {
  const uint64_t id = rec.tx_id;
  const uint64_t base = rec.tx_off + kTxRecordPrefixSize;
  const TxHeader& h = tx.header;
  if (h.id != id) return Fail(id, kTxLog, *txlog_, base, "header holds tx " + Num(h.id));
  if (h.ts < last_ts_) {
    return Fail(id, kTxLog, *txlog_, base + kHdrTs, "timestamp goes backwards");
  }
  if (h.version > 1) {
    return Fail(id, kTxLog, *txlog_, base + kHdrVersion, "unsupported header version");
  }
  if (h.nentries == 0 || h.nentries != tx.entries.size()) {
    return Fail(id, kTxLog, *txlog_, base + kHdrNEntries, "bad entry count");
  }
  if (h.bl_tx_id != id - 1) {
    return Fail(id, kTxLog, *txlog_, base + kHdrBlTxId,
                "BlTxID is " + Num(h.bl_tx_id) + ", expected " + Num(id - 1));
  }
  if (h.bl_root != frontier_.root()) {
    return Fail(id, kTxLog, *txlog_, base + kHdrBlRoot,
                "BlRoot is not the root of the AHT recomputed over Alh(1.." + Num(id - 1) + ")");
  }
  if (h.prev_alh != prev_alh_) {
    return Fail(
        id, kTxLog, *txlog_, base + kHdrPrevAlh,
        id == 1 ? "PrevAlh of tx 1 is not H(\"\")" : "PrevAlh is not the Alh of tx " + Num(id - 1));
  }
  entry_offs_.clear();
  entry_digests_.clear();
  std::set<std::string_view> keys;
  uint64_t pos = base + kTxHeaderSize;
  for (const TxEntry& e : tx.entries) {
    entry_offs_.push_back(pos);
    const std::string md = e.md.Encode();
    if (e.key.empty() || !keys.insert(e.key).second) {
      return Fail(id, kTxLog, *txlog_, pos, "empty or repeated key");
    }
    auto d = EntryDigest(h.version, e.key, md, e.hval);
    if (!d.ok()) return Fail(id, kTxLog, *txlog_, pos, "entry: " + d.status().message());
    entry_digests_.push_back(*d);
    pos += kTxEntryFixedSize + e.key.size() + md.size();
  }
  if (HTreeRoot(entry_digests_) != h.eh) {
    return Fail(id, kTxLog, *txlog_, base + kHdrEh, "entries do not hash to Eh");
  }
  auto alh = h.Alh();
  if (!alh.ok() || *alh != rec.alh) {
    return Fail(id, kCommitLog, *clog_, (id - 1) * kCommitRecordSize + kRecAlh,
                "Alh does not match the hash of the tx header");
  }
  return Status::OK();
}

Status DirVerifier::CheckValues(const CommitRecord& rec, const Tx& tx) {
  const uint64_t id = rec.tx_id;
  uint64_t pos = ValuesStart();
  std::string chunk;
  for (size_t k = 0; k < tx.entries.size(); k++) {
    const TxEntry& e = tx.entries[k];
    // The entry's vlen and voff follow its key and metadata.
    const uint64_t field = entry_offs_[k] + 3 + e.key.size() + e.md.Encode().size();
    if (e.voff != pos) {
      return Fail(id, kTxLog, *txlog_, field + 4,
                  "value offset " + Num(e.voff) + " is not where the previous value ended (" +
                      Num(pos) + ")");
    }
    if (e.vlen > rec.vlog_end - pos) {
      return Fail(id, kTxLog, *txlog_, field, "value lies past the tx's value log end");
    }
    if (id <= truncated_upto_) {
      // Discarded by truncation: only where it lay can be checked.
      pos += e.vlen;
      continue;
    }
    Sha256 sha;
    for (uint64_t done = 0; done < e.vlen;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kValueChunk, e.vlen - done));
      chunk.resize(n);
      IMMUDB_RETURN_IF_ERROR(vlog_->ReadAt(e.voff + done, n, chunk.data()));
      sha.Update(chunk.data(), n);
      done += n;
    }
    if (sha.Final() != e.hval) {
      return Fail(id, kValueLog, *vlog_, e.voff, "value does not match its hash");
    }
    pos += e.vlen;
    report_.bytes_checked += e.vlen;
  }
  if (pos != rec.vlog_end) {
    return Fail(id, kCommitLog, *clog_, (id - 1) * kCommitRecordSize + kRecVlogEnd,
                "value log end " + Num(rec.vlog_end) + " is not where the tx's values end (" +
                    Num(pos) + ")");
  }
  return Status::OK();
}

Status DirVerifier::CheckAhtRecord(uint64_t id, const Hash& alh) {
  frontier_.Append(alh, &aht_digests_);
  const std::vector<Hash>& want = aht_digests_;
  const uint64_t off = ahtree::RecordOffset(id);
  const uint64_t size = ahtree::RecordSize(id);
  aht_tail_ = off + AhtTornWindow(StoreOptions().max_group_commit_txs, 1 << 20) >= aht_->size();
  if (off > aht_->size() || size > aht_->size() - off) {
    return Fail(id, kAht, *aht_, aht_->size(),
                "no record for leaf " + Num(id) + " (the file ends first)");
  }
  record_.resize(size);
  IMMUDB_RETURN_IF_ERROR(aht_->ReadAt(off, size, record_.data()));
  const auto* p = reinterpret_cast<const uint8_t*>(record_.data());
  for (size_t d = 0; d < want.size(); d++) {
    if (!std::equal(want[d].begin(), want[d].end(), p + d * kHashSize)) {
      return Fail(id, kAht, *aht_, off + d * kHashSize,
                  "digest " + Num(d) + " of leaf " + Num(id) +
                      " does not match the tree recomputed from the Alh values");
    }
  }
  const size_t body = want.size() * kHashSize;
  if (crc32c::Unmask(GetU32BE(p + body)) != crc32c::Value(p, body)) {
    return Fail(id, kAht, *aht_, off + body, "record checksum mismatch");
  }
  report_.bytes_checked += size;
  aht_tail_ = false;
  return Status::OK();
}

// Whether every byte of `log` from `from` to its end is zero.
Result<bool> AllZero(SegmentReader& log, uint64_t from) {
  std::string chunk;
  for (uint64_t pos = from; pos < log.size();) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(1 << 20, log.size() - pos));
    chunk.resize(n);
    IMMUDB_RETURN_IF_ERROR(log.ReadAt(pos, n, chunk.data()));
    if (chunk.find_first_not_of('\0') != std::string::npos) return false;
    pos += n;
  }
  return true;
}

Status DirVerifier::CheckTails(uint64_t n) {
  in_tails_ = true;
  const uint64_t clog_end = n * kCommitRecordSize;
  if (clog_->size() != clog_end) {
    return Fail(
        0, kCommitLog, *clog_, clog_end,
        Num(clog_->size() - clog_end) + " bytes of a partial commit record after tx " + Num(n));
  }
  if (framed_ && txlog_->size() > tx_end_) {
    // Format 3 keeps zeros written ahead of the tx log's data; a crash leaves
    // them in the file (opening the store cuts them).
    IMMUDB_ASSIGN_OR_RETURN(bool zeros, AllZero(*txlog_, tx_end_));
    if (zeros) {
      report_.bytes_checked += txlog_->size() - tx_end_;
      tx_end_ = txlog_->size();
    }
  }
  if (txlog_->size() != tx_end_) {
    return Fail(0, kTxLog, *txlog_, tx_end_,
                Num(txlog_->size() - tx_end_) + " bytes after the record of tx " + Num(n) +
                    (framed_ ? " (format 3: txs not yet in the lazily synced commit log "
                               "after a crash; opening the store recovers them)"
                             : ""));
  }
  if (!shared_ && vlog_->size() != vlog_end_) {
    return Fail(0, kValueLog, *vlog_, vlog_end_,
                Num(vlog_->size() - vlog_end_) + " bytes after the values of tx " + Num(n));
  }
  const uint64_t aht_end = ahtree::RecordOffset(n + 1);
  if (aht_->size() != aht_end) {
    return Fail(0, kAht, *aht_, aht_end,
                Num(aht_->size() - aht_end) + " bytes after the record of leaf " + Num(n));
  }
  return Status::OK();
}

}  // namespace

std::string VerifyMismatch::ToString() const {
  std::string s;
  if (tx_id != 0) s = "tx " + Num(tx_id) + ": ";
  return s + kind + " " + file + " offset " + Num(offset) + ": " + what;
}

Result<VerifyReport> VerifyStoreDir(const std::string& dir, const VerifyDirOptions& opts) {
  DirVerifier v(opts.fs ? opts.fs : FileSystem::Default(), dir);
  return v.Run();
}

int RunVerifyCommand(const std::string& dir, const char* prog) {
  auto report = VerifyStoreDir(dir, VerifyDirOptions{});
  if (!report.ok()) {
    std::fprintf(stderr, "%s: %s: %s\n", prog, dir.c_str(), report.status().ToString().c_str());
    return 1;
  }
  if (report->mismatch) {
    const VerifyMismatch& m = *report->mismatch;
    std::printf("%s\n", m.ToString().c_str());
    std::printf("verification FAILED after %llu verified transactions\n",
                static_cast<unsigned long long>(report->tx_count));
    if (m.maybe_torn_tail) {
      std::printf(
          "note: this part of the store was not yet known to be durable; a crash can leave\n"
          "such a torn tail, which opening the store cuts back\n");
    }
    return 1;
  }
  std::printf("verified %llu transactions, %llu bytes: OK\n",
              static_cast<unsigned long long>(report->tx_count),
              static_cast<unsigned long long>(report->bytes_checked));
  if (report->truncated_upto > 0) {
    std::printf(
        "values of txs 1..%llu were discarded by truncation (their hashes are checked, "
        "their bytes cannot be)\n",
        static_cast<unsigned long long>(report->truncated_upto));
  }
  std::printf("last tx %llu, alh %s\n", static_cast<unsigned long long>(report->tx_count),
              ToHex(report->last_alh).c_str());
  return 0;
}

}  // namespace immudb::store
