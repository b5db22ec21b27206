// build/bin/immuclient against a real build/bin/immudb: every command alias
// prints what its long form prints (wire-api.md §11.1), and the
// --revision-separator and --server-signing-pub-key flags.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "client/admin.h"
#include "client/client.h"
#include "immuclient_fixture.h"
#include "test_certs.h"

namespace immudb::client {
namespace {

using testing::ClientImmuclientTest;

const std::string kLogin = "--username immudb --password immudb ";

class ClientImmuclientAliasTest : public ClientImmuclientTest {
 protected:
  // Runs immuclient with `long_form` and then with `alias` (shell words, each
  // with its own flags) and expects both to succeed with the same output;
  // returns it.
  std::string ExpectSame(const std::string& long_form, const std::string& alias,
                         const std::string& input = "") {
    int code = -1;
    int alias_code = -1;
    const std::string out = Run(long_form, &code, input);
    EXPECT_EQ(code, 0) << long_form << ": " << out;
    EXPECT_FALSE(out.empty()) << long_form;
    EXPECT_EQ(Run(alias, &alias_code, input), out) << alias << " differs from " << long_form;
    EXPECT_EQ(alias_code, 0) << alias;
    return out;
  }

  void CreateDatabase(const std::string& name) {
    Options o;
    o.port = server_->port();
    o.state_dir = dir_;
    auto c = Client::Open(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Login("immudb", "immudb").ok());
    auto created = client::CreateDatabase(**c, name, {});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
};

TEST_F(ClientImmuclientAliasTest, EveryAliasPrintsWhatItsLongFormPrints) {
  // login (l) and logout (x), with the token file.
  int code = -1;
  const std::string login = Run("login immudb", &code, "immudb\n");
  EXPECT_EQ(code, 0) << login;
  EXPECT_TRUE(login.starts_with("Successfully logged in\n")) << login;
  const std::string logout = Run("logout", &code);
  EXPECT_EQ(logout, "Successfully logged out\n");
  EXPECT_EQ(Run("l immudb", &code, "immudb\n"), login);
  EXPECT_EQ(Run("x", &code), logout);
  EXPECT_EQ(code, 0);

  // Commands that write: the long form in one database, the alias in another
  // holding the same transactions, so the tx ids printed are the same too.
  ASSERT_NO_FATAL_FAILURE(CreateDatabase("longdb"));
  ASSERT_NO_FATAL_FAILURE(CreateDatabase("aliasdb"));
  const std::string in_long = kLogin + "--database longdb ";
  const std::string in_alias = kLogin + "--database aliasdb ";
  struct Form {
    const char* command;
    const char* alias;
    const char* args;
  };
  const Form writes[] = {
      {"set", "s", "a 1"},        {"safeset", "ss", "b 2"},
      {"reference", "r", "ra a"}, {"safereference", "sr", "rb b"},
      {"zadd", "za", "zs 1 a"},   {"safezadd", "sza", "zs 2 b"},
      {"set", "s", "c 3"},        {"delete", "del", "c"},
  };
  for (const Form& f : writes) {
    ExpectSame(in_long + f.command + " " + f.args, in_alias + f.alias + " " + f.args);
  }
  EXPECT_EQ(Run(in_alias + "get a"), "tx:       1\nrev:      1\nkey:      a\nvalue:    1\n");
  EXPECT_EQ(Run(in_alias + "get c"), "key not found: c\n");

  // Commands that read, both forms on the same database.
  const Form reads[] = {
      {"get", "g", "a"},         {"safeget", "sg", "b"},   {"history", "h", "a"},
      {"scan", "scn", ""},       {"zscan", "zscn", "zs"},  {"count", "cnt", "a"},
      {"tx", "getByIndex", "2"}, {"tx", "gettx", "2"},     {"safetx", "stx", "2"},
      {"current", "crt", ""},    {"current", "state", ""}, {"status", "p", ""},
  };
  for (const Form& f : reads) {
    ExpectSame(in_long + f.command + " " + f.args, in_long + f.alias + " " + f.args);
  }
  const std::string tx = Run(in_long + "tx 2");
  const size_t at = tx.find("hash:\t\t");
  ASSERT_NE(at, std::string::npos) << tx;
  const std::string check = "2 " + tx.substr(at + 7, 64);
  const std::string out =
      ExpectSame(in_long + "check-consistency " + check, in_long + "c " + check);
  EXPECT_TRUE(out.starts_with("tx 2 is consistent with the server's state\n")) << out;

  // Interactive mode: it (cli-mode).
  EXPECT_EQ(ExpectSame(in_long + "it", in_long + "cli-mode", "get a\ncount a\n"),
            "tx:       1\nrev:      1\nkey:      a\nvalue:    1\n1\n");
}

TEST_F(ClientImmuclientTest, RevisionSeparatorFlag) {
  EXPECT_EQ(Run(kLogin + "set k v1"), "tx:       1\nrev:      1\nkey:      k\nvalue:    v1\n");
  EXPECT_EQ(Run(kLogin + "set k v2"), "tx:       2\nrev:      2\nkey:      k\nvalue:    v2\n");
  const std::string sep = kLogin + "--revision-separator :: ";
  EXPECT_EQ(Run(sep + "get k::1"), "tx:       1\nrev:      1\nkey:      k\nvalue:    v1\n");
  EXPECT_EQ(Run(sep + "safeget k::2"),
            "tx:       2\nrev:      2\nkey:      k\nvalue:    v2\nverified: true\n");
  // The default separator is now part of the key.
  EXPECT_EQ(Run(sep + "get k@1"), "key not found: k@1\n");
  EXPECT_EQ(Run(sep + "restore k::1"), "tx:       3\nrev:      3\nkey:      k\nvalue:    v1\n");
  int code = -1;
  const std::string out = Run(sep + "restore k@1", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("please specify the key with revision"), std::string::npos) << out;
}

// A server started with --signingKey; immuclient checks the signature of
// every state with --server-signing-pub-key.
class ClientImmuclientSignedTest : public ClientImmuclientTest {
 protected:
  std::vector<std::string> ServerArgs() override {
    EXPECT_TRUE(testing::WriteSigningKeyPair(dir_ + "/server.pem", dir_ + "/server.pub"));
    EXPECT_TRUE(testing::WriteSigningKeyPair(dir_ + "/other.pem", dir_ + "/other.pub"));
    return {"--signingKey", dir_ + "/server.pem"};
  }
};

TEST_F(ClientImmuclientSignedTest, ServerSigningPubKeyRightKeyVerifiesWrongKeyIsTampering) {
  std::filesystem::create_directories(dir_ + "/good");
  std::filesystem::create_directories(dir_ + "/wrong");
  const std::string good =
      kLogin + "--server-signing-pub-key " + dir_ + "/server.pub --dir " + dir_ + "/good ";
  const std::string wrong =
      kLogin + "--server-signing-pub-key " + dir_ + "/other.pub --dir " + dir_ + "/wrong ";
  const std::string entry = "tx:       1\nrev:      1\nkey:      k\nvalue:    v\nverified: true\n";
  EXPECT_EQ(Run(good + "safeset k v"), entry);
  EXPECT_EQ(Run(good + "safeget k"), entry);
  std::string out = Run(good + "current");
  EXPECT_TRUE(out.starts_with("database:  defaultdb\ntxID:      1\nhash:      ")) << out;

  int code = -1;
  for (const char* command : {"safeget k", "current"}) {
    out = Run(wrong + command, &code);
    EXPECT_EQ(code, 1) << command << ": " << out;
    EXPECT_NE(out.find("tampering detected: wrong signature"), std::string::npos)
        << command << ": " << out;
  }
  // A key file that cannot be read is an error, not tampering.
  out = Run(kLogin + "--server-signing-pub-key " + dir_ + "/missing.pub current", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("cannot read public key file"), std::string::npos) << out;
  EXPECT_EQ(out.find("tampering"), std::string::npos) << out;
}

}  // namespace
}  // namespace immudb::client
