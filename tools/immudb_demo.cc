// A short engine demo for `make run` until the server exists: opens (or
// creates) a store, commits a transaction, reads it back and proves that the
// previous state is a prefix of the new one.
#include <cstdio>
#include <string>

#include "immudb/store.h"
#include "immudb/verify.h"

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "./data";
  auto opened = immudb::Store::Open(dir, {});
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), opened.status().ToString().c_str());
    return 1;
  }
  auto& store = *opened;
  const immudb::StoreState before = store->CurrentState();
  std::printf("store %s: %llu transactions, Alh %s\n", dir.c_str(),
              static_cast<unsigned long long>(before.tx_id), immudb::ToHex(before.alh).c_str());

  // Set("demo-key", "hello") as the database layer stores it (0x00 prefixes).
  const std::string key = std::string(1, '\0') + "demo-key";
  const std::string value = std::string(1, '\0') + "hello #" + std::to_string(before.tx_id + 1);
  auto hdr = store->Commit({{key, value, {}}});
  if (!hdr.ok()) {
    std::fprintf(stderr, "commit failed: %s\n", hdr.status().ToString().c_str());
    return 1;
  }
  auto tx = store->ReadTx(hdr->id);
  auto val = tx.ok() ? store->ReadValue(tx->entries[0]) : immudb::Result<std::string>(tx.status());
  if (!val.ok()) {
    std::fprintf(stderr, "read failed: %s\n", val.status().ToString().c_str());
    return 1;
  }
  std::printf("committed tx %llu: %s = %s\n", static_cast<unsigned long long>(hdr->id),
              key.c_str() + 1, val->c_str() + 1);

  const immudb::Hash alh = *hdr->Alh();
  bool ok = true;
  if (before.tx_id > 0) {
    auto src = store->ReadTxHeader(before.tx_id);
    auto proof = src.ok() ? store->BuildDualProof(*src, *hdr)
                          : immudb::Result<immudb::DualProof>(src.status());
    ok = proof.ok() &&
         immudb::verify::VerifyDualProof(*proof, before.tx_id, hdr->id, before.alh, alh);
    std::printf("dual proof tx %llu -> tx %llu: %s\n",
                static_cast<unsigned long long>(before.tx_id),
                static_cast<unsigned long long>(hdr->id), ok ? "verified" : "FAILED");
  }
  std::printf("new state: tx %llu, Alh %s\n", static_cast<unsigned long long>(hdr->id),
              immudb::ToHex(alh).c_str());
  return ok ? 0 : 1;
}
