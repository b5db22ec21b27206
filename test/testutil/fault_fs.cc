#include "testutil/fault_fs.h"

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

namespace immudb::testutil {

struct FaultInjectionFileSystem::FileState {
  uint64_t synced_size = 0;
  // Start of the last Append not yet covered by a Sync, if any.
  std::optional<uint64_t> last_write_start;
  bool entry_synced = true;
  // A volatile rename: the name to go back to and whether that name was durable.
  std::optional<std::string> renamed_from;
  bool from_entry_synced = false;
  // Durable contents of the file a volatile rename replaced.
  std::optional<std::string> replaced_content;
};

namespace {

std::string ParentOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string StripSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

Status PowerCut(const std::string& what) {
  return Status::IOError(what + ": file system inactive (simulated power cut)");
}

Status InjectedError(FaultKind kind, const std::string& what) {
  if (kind == FaultKind::kNoSpace) {
    return Status::IOError(what + ": No space left on device (injected ENOSPC)");
  }
  return Status::IOError(what + ": injected I/O error");
}

class FaultFile final : public File {
 public:
  using State = FaultInjectionFileSystem::FileState;
  FaultFile(FaultInjectionFileSystem* fs, std::string path, std::unique_ptr<File> target,
            std::shared_ptr<State> state)
      : fs_(fs), path_(std::move(path)), target_(std::move(target)), state_(std::move(state)) {}

  Status Append(std::string_view data) override {
    FaultKind kind;
    Status s = fs_->CheckOp(FaultOp::kAppend, "append to " + path_, &kind);
    const uint64_t start = target_->Size();
    if (!s.ok() && kind != FaultKind::kShortWrite) return s;
    std::string_view part = s.ok() ? data : data.substr(0, data.size() / 2);
    Status w = target_->Append(part);
    {
      std::lock_guard<std::mutex> l(fs_->mu());
      if (start >= state_->synced_size) state_->last_write_start = start;
    }
    if (!w.ok()) return w;
    if (!s.ok()) {
      return Status::IOError("append to " + path_ + ": injected short write of " +
                             std::to_string(part.size()) + " of " + std::to_string(data.size()) +
                             " bytes");
    }
    return Status::OK();
  }

  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* read) const override {
    *read = 0;
    if (!fs_->active()) return PowerCut("read of " + path_);
    return target_->ReadAt(offset, n, dst, read);
  }

  Status Sync() override {
    FaultKind kind;
    IMMUDB_RETURN_IF_ERROR(fs_->CheckOp(FaultOp::kSync, "sync of " + path_, &kind));
    // Appends may run while the sync does: only what was written before it
    // started becomes durable.
    const uint64_t size = target_->Size();
    IMMUDB_RETURN_IF_ERROR(target_->Sync());
    std::lock_guard<std::mutex> l(fs_->mu());
    state_->synced_size = std::max(state_->synced_size, size);
    if (state_->last_write_start && *state_->last_write_start < size) {
      state_->last_write_start.reset();
    }
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    FaultKind kind;
    IMMUDB_RETURN_IF_ERROR(fs_->CheckOp(FaultOp::kTruncate, "truncate of " + path_, &kind));
    IMMUDB_RETURN_IF_ERROR(target_->Truncate(size));
    std::lock_guard<std::mutex> l(fs_->mu());
    state_->synced_size = std::min(state_->synced_size, size);
    if (state_->last_write_start && *state_->last_write_start >= size) {
      state_->last_write_start.reset();
    }
    return Status::OK();
  }

  uint64_t Size() const override { return target_->Size(); }

  Status PunchHole(uint64_t offset, uint64_t len) override {
    FaultKind kind;
    IMMUDB_RETURN_IF_ERROR(fs_->CheckOp(FaultOp::kPunchHole, "punch hole in " + path_, &kind));
    return target_->PunchHole(offset, len);
  }

  Status Close() override {
    // The descriptor is released even during a power cut.
    Status s = target_->Close();
    if (!fs_->active()) return PowerCut("close of " + path_);
    return s;
  }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::string path_;
  const std::unique_ptr<File> target_;
  const std::shared_ptr<State> state_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* target)
    : FileSystemWrapper(target) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::SetActive(bool active) {
  std::lock_guard<std::mutex> l(mu_);
  active_ = active;
}

bool FaultInjectionFileSystem::active() const {
  std::lock_guard<std::mutex> l(mu_);
  return active_;
}

void FaultInjectionFileSystem::FailNth(FaultOp op, uint64_t n, FaultKind kind, bool persistent) {
  std::lock_guard<std::mutex> l(mu_);
  const int i = static_cast<int>(op);
  faults_[i] = Fault{counts_[i] + std::max<uint64_t>(n, 1), kind, persistent};
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  for (Fault& f : faults_) f = Fault{};
}

uint64_t FaultInjectionFileSystem::OpCount(FaultOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  return counts_[static_cast<int>(op)];
}

Status FaultInjectionFileSystem::CheckOp(FaultOp op, const std::string& what, FaultKind* kind) {
  std::lock_guard<std::mutex> l(mu_);
  *kind = FaultKind::kIOError;
  if (!active_) return PowerCut(what);
  const int i = static_cast<int>(op);
  const uint64_t n = ++counts_[i];
  Fault& f = faults_[i];
  if (f.at == 0 || n < f.at) return Status::OK();
  *kind = f.kind;
  if (!f.persistent) f = Fault{};
  return InjectedError(*kind, what);
}

Status FaultInjectionFileSystem::CheckActive(const std::string& what) const {
  std::lock_guard<std::mutex> l(mu_);
  return active_ ? Status::OK() : PowerCut(what);
}

std::shared_ptr<FaultInjectionFileSystem::FileState> FaultInjectionFileSystem::StateForLocked(
    const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  // First sight of a file that already existed: all of it counts as durable.
  auto state = std::make_shared<FileState>();
  auto size = target()->GetFileSize(path);
  state->synced_size = size.ok() ? *size : 0;
  files_[path] = state;
  return state;
}

Result<std::unique_ptr<File>> FaultInjectionFileSystem::OpenFile(const std::string& path,
                                                                 bool create) {
  FaultKind kind;
  IMMUDB_RETURN_IF_ERROR(CheckOp(FaultOp::kOpenFile, "open " + path, &kind));
  const bool existed = target()->FileExists(path);
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, target()->OpenFile(path, create));
  std::shared_ptr<FileState> state;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!existed) {
      state = std::make_shared<FileState>();
      state->entry_synced = false;
      files_[path] = state;
    } else {
      state = StateForLocked(path);
    }
  }
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, path, std::move(f), std::move(state)));
}

Status FaultInjectionFileSystem::CreateDir(const std::string& path) {
  IMMUDB_RETURN_IF_ERROR(CheckActive("create directory " + path));
  return target()->CreateDir(path);
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  FaultKind kind;
  IMMUDB_RETURN_IF_ERROR(CheckOp(FaultOp::kSyncDir, "sync directory " + path, &kind));
  IMMUDB_RETURN_IF_ERROR(target()->SyncDir(path));
  const std::string dir = StripSlashes(path);
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [name, state] : files_) {
    if (ParentOf(name) != dir) continue;
    state->entry_synced = true;
    state->renamed_from.reset();
    state->replaced_content.reset();
  }
  return Status::OK();
}

Result<std::vector<std::string>> FaultInjectionFileSystem::GetChildren(const std::string& dir) {
  IMMUDB_RETURN_IF_ERROR(CheckActive("list " + dir));
  return target()->GetChildren(dir);
}

bool FaultInjectionFileSystem::FileExists(const std::string& path) {
  return active() && target()->FileExists(path);
}

Result<uint64_t> FaultInjectionFileSystem::GetFileSize(const std::string& path) {
  IMMUDB_RETURN_IF_ERROR(CheckActive("stat " + path));
  return target()->GetFileSize(path);
}

Status FaultInjectionFileSystem::RemoveFile(const std::string& path) {
  IMMUDB_RETURN_IF_ERROR(CheckActive("unlink " + path));
  IMMUDB_RETURN_IF_ERROR(target()->RemoveFile(path));
  std::lock_guard<std::mutex> l(mu_);
  files_.erase(path);
  return Status::OK();
}

Status FaultInjectionFileSystem::RemoveDir(const std::string& path) {
  IMMUDB_RETURN_IF_ERROR(CheckActive("rmdir " + path));
  return target()->RemoveDir(path);
}

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  FaultKind kind;
  IMMUDB_RETURN_IF_ERROR(CheckOp(FaultOp::kRename, "rename " + from + " to " + to, &kind));
  // The durable contents of `to`, which a crash before SyncDir brings back.
  std::optional<std::string> old_to;
  {
    std::shared_ptr<FileState> to_state;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = files_.find(to);
      if (it != files_.end()) to_state = it->second;
    }
    if (target()->FileExists(to) && (!to_state || to_state->entry_synced)) {
      auto content = ReadFileToString(target(), to);
      if (content.ok()) {
        if (to_state) content->resize(std::min<uint64_t>(content->size(), to_state->synced_size));
        old_to = std::move(*content);
      }
    }
  }
  IMMUDB_RETURN_IF_ERROR(target()->Rename(from, to));
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<FileState> state = StateForLocked(from);
  files_.erase(from);
  auto it = files_.find(to);
  if (it != files_.end() && it->second->replaced_content && !old_to) {
    // `to` was itself the target of a volatile rename; keep the older contents.
    old_to = it->second->replaced_content;
  }
  if (!state->renamed_from) {
    state->renamed_from = from;
    state->from_entry_synced = state->entry_synced;
  }
  state->entry_synced = false;
  state->replaced_content = std::move(old_to);
  files_[to] = std::move(state);
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::LockFile(const std::string& path) {
  IMMUDB_RETURN_IF_ERROR(CheckActive("lock " + path));
  return target()->LockFile(path);
}

uint64_t FaultInjectionFileSystem::SyncedSize(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  return StateForLocked(path)->synced_size;
}

namespace {

// Cuts `path` to `keep` bytes and appends `garbage`, then syncs it.
Status CutFile(FileSystem* fs, const std::string& path, uint64_t keep, const std::string& garbage) {
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs->OpenFile(path, /*create=*/false));
  if (f->Size() > keep) IMMUDB_RETURN_IF_ERROR(f->Truncate(keep));
  if (!garbage.empty()) IMMUDB_RETURN_IF_ERROR(f->Append(garbage));
  IMMUDB_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

Status WriteWhole(FileSystem* fs, const std::string& path, const std::string& content) {
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs->OpenFile(path, /*create=*/true));
  IMMUDB_RETURN_IF_ERROR(f->Truncate(0));
  IMMUDB_RETURN_IF_ERROR(f->Append(content));
  IMMUDB_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

}  // namespace

Status FaultInjectionFileSystem::DropUnsyncedData(const DropOptions& opts) {
  std::lock_guard<std::mutex> l(mu_);
  std::mt19937_64 rng(opts.seed);
  FileSystem* fs = target();
  Status first;
  auto note = [&first](Status s) {
    if (!s.ok() && !s.IsNotFound() && first.ok()) first = std::move(s);
  };
  std::map<std::string, std::shared_ptr<FileState>> survivors;
  for (auto& [path, state] : files_) {
    std::string final_path = path;
    if (!state->entry_synced) {
      if (state->renamed_from && state->from_entry_synced) {
        note(fs->Rename(path, *state->renamed_from));
        final_path = *state->renamed_from;
      } else {
        note(fs->RemoveFile(path));
        final_path.clear();
      }
      if (state->replaced_content) {
        note(WriteWhole(fs, path, *state->replaced_content));
        auto restored = std::make_shared<FileState>();
        restored->synced_size = state->replaced_content->size();
        survivors[path] = restored;
      }
      if (final_path.empty()) continue;
    }
    auto size = fs->GetFileSize(final_path);
    if (!size.ok()) {
      note(size.status());
      continue;
    }
    uint64_t keep = state->synced_size;
    std::string garbage;
    const uint64_t start = std::max(state->last_write_start.value_or(*size), state->synced_size);
    if (opts.tear_last_write && *size > start) {
      const uint64_t len = *size - start;
      const uint64_t prefix = rng() % len;  // Never the whole write.
      keep = start + prefix;
      if (opts.garbage) garbage.resize(1 + rng() % (len - prefix));
      for (char& c : garbage) c = static_cast<char>(rng());
    }
    if (*size > keep || !garbage.empty()) note(CutFile(fs, final_path, keep, garbage));
    auto after = std::make_shared<FileState>();
    after->synced_size = std::min<uint64_t>(*size, keep + garbage.size());
    survivors[final_path] = after;
  }
  files_ = std::move(survivors);
  return first;
}

}  // namespace immudb::testutil
