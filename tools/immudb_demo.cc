// A short engine demo for `make run` until the server exists.
#include <cstdio>

#include "immudb/hash.h"

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "./data";
  std::printf("immudb engine demo (data dir %s)\n", dir);
  std::printf("Alh(0) = H(\"\") = %s\n", immudb::ToHex(immudb::EmptyHash()).c_str());
  return 0;
}
