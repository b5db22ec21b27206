// Helpers shared by every FileSystem implementation.
#include "immudb/env.h"

#include <string>

namespace immudb {
namespace {

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path) {
  IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs->OpenFile(path, /*create=*/false));
  std::string out(f->Size(), '\0');
  size_t got = 0;
  IMMUDB_RETURN_IF_ERROR(f->ReadAt(0, out.size(), out.data(), &got));
  // The file may have shrunk between Size() and the read; return what exists.
  out.resize(got);
  IMMUDB_RETURN_IF_ERROR(f->Close());
  return out;
}

Status WriteFileAtomic(FileSystem* fs, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  {
    IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs->OpenFile(tmp, /*create=*/true));
    // A temp file left by an earlier crash may hold stale bytes.
    if (f->Size() != 0) IMMUDB_RETURN_IF_ERROR(f->Truncate(0));
    IMMUDB_RETURN_IF_ERROR(f->Append(data));
    IMMUDB_RETURN_IF_ERROR(f->Sync());
    IMMUDB_RETURN_IF_ERROR(f->Close());
  }
  IMMUDB_RETURN_IF_ERROR(fs->Rename(tmp, path));
  return fs->SyncDir(ParentDir(path));
}

}  // namespace immudb
