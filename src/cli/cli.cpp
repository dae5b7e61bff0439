#include "cli/cli.h"

#include <pthread.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "audit/audit_log.h"
#include "cli/admin.h"
#include "cli/demo_data.h"
#include "cli/job_commands.h"
#include "cli/node_commands.h"
#include "cli/worker_command.h"
#include "cli/progress.h"
#include "cli/recon_commands.h"
#include "cli/remote.h"
#include "cli/remote_flags.h"
#include "cli/signals.h"
#include "cli/sql_command.h"
#include "cli/upload_command.h"
#include "cli/validate_command.h"
#include "common/error.h"
#include "common/util.h"
#include "engine/result_writer.h"
#include "governance/functions.h"
#include "identity/directory.h"
#include "identity/keys.h"
#include "server/service.h"
#include "session/instance.h"
#include "session/runner.h"

namespace fs = std::filesystem;

namespace tarn::cli {

namespace {

constexpr const char* kVersion = "0.1.0";

std::string DefaultDataDir() {
  const char* env = std::getenv("TARN_DATA_DIR");
  return env && *env ? env : "tarn-data";
}

// tarn init tightens nothing it did not create: it says what group or others can
// open, and how to close it.
void WarnOpen(const std::vector<std::string>& open, const std::string& data_dir) {
  if (open.empty()) return;
  std::cerr << fmt::format(
      "warning: {} already existed and {} entr{} in it can be read or entered by group or "
      "others, e.g. {}; Tarn left them as they are (run `chmod -R go-rwx {}` to make them "
      "private)\n",
      data_dir, open.size(), open.size() == 1 ? "y" : "ies", open.front(), data_dir);
}

std::string DefaultMetastore() {
  const char* env = std::getenv("TARN_METASTORE");
  return env ? env : "";
}

// Options every command that opens a data directory shares.
struct InstanceFlags {
  std::string data_dir = DefaultDataDir();
  std::string metastore = DefaultMetastore();
  std::string memory_limit;
  int threads = 0;

  void AddTo(CLI::App* cmd, bool engine_flags) {
    cmd->add_option("--data-dir,-d", data_dir, "Data directory (default: $TARN_DATA_DIR or ./tarn-data)");
    cmd->add_option(
        "--metastore", metastore,
        "Metadata store: postgresql://user@host/db (default: $TARN_METASTORE or the SQLite file in the "
        "data directory)");
    if (engine_flags) {
      cmd->add_option("--memory-limit", memory_limit, "Engine memory limit, e.g. 4GB (default: 80% of RAM)");
      cmd->add_option("--threads", threads, "Engine threads (default: all cores)")
          ->check(CLI::Range(0, 1024));
    }
  }
  session::InstanceOptions Options() const {
    session::InstanceOptions o;
    o.data_dir = data_dir;
    o.metastore = metastore;
    o.memory_limit = memory_limit;
    o.threads = threads;
    return o;
  }
};

// A password from the first line of stdin (--password-stdin), or typed at a prompt
// without echo when stdin is a terminal.
std::string ReadPassword(bool from_stdin, const char* prompt) {
  std::string line;
  if (from_stdin || !isatty(STDIN_FILENO)) {
    if (!from_stdin)
      throw Error::InvalidArgument("no terminal to ask for the password: use --password-stdin");
    std::getline(std::cin, line);
  } else {
    std::cerr << prompt;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw Error::InvalidArgument("the password is empty");
  return line;
}

// Errors are one line; DuckDB's multi-line context (LINE 1: ...) is dropped.
std::string FirstLine(const std::string& message) {
  auto nl = message.find('\n');
  std::string line = message.substr(0, nl);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "tarn: a governed data-lake compute service\n\nRun `tarn COMMAND --help` for a command's options.",
      "tarn"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  // tarn version
  auto* version = app.add_subcommand("version", "Print the version of tarn and of its engine");

  // tarn functions
  bool functions_json = false;
  auto* functions = app.add_subcommand(
      "functions", "List the functions queries may call, and why the others are denied (docs/functions.md)");
  functions->add_flag("--json", functions_json, "One JSON object per group: kind, use, reason, names");

  // tarn init
  InstanceFlags init_flags;
  bool admin_password_stdin = false;
  auto* init = app.add_subcommand(
      "init", "Create a data directory (lake, metadata store) and its administrator `admin`");
  init_flags.AddTo(init, false);
  init->add_flag("--admin-password-stdin", admin_password_stdin,
                 "Read admin's password from stdin (default: generate one and print it once)");

  // tarn server
  InstanceFlags server_flags;
  std::string listen, config_file;
  auto* serverc =
      app.add_subcommand("server", "Serve the HTTP API (REST v1, OAuth2 token endpoint, OIDC discovery)");
  server_flags.AddTo(serverc, true);
  serverc->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8998)");
  serverc->add_option("--config", config_file, "TOML configuration file (see docs/server.md)");

  // tarn keys rotate
  InstanceFlags keys_flags;
  int64_t keep_for = 86400;
  std::string rotate_alg = "RS256";
  auto* keys = app.add_subcommand("keys", "Manage the built-in identity provider's signing keys");
  keys->require_subcommand(1);
  auto* rotate = keys->add_subcommand(
      "rotate", "Sign new tokens with a new key; the old public key stays published for --keep-for seconds");
  keys_flags.AddTo(rotate, false);
  rotate
      ->add_option("--keep-for", keep_for,
                   "Seconds the old key stays valid (at least the token lifetime; default 86400)")
      ->check(CLI::NonNegativeNumber);
  rotate->add_option("--algorithm", rotate_alg, "RS256 or ES256")->check(CLI::IsMember({"RS256", "ES256"}));
  // tarn keys table-rotate / table-list: the keys of encrypted tables (docs/lakehouse.md)
  auto* table_rotate = keys->add_subcommand(
      "table-rotate",
      "Encrypt new files of encrypted tables with a new key; files keep the key they were written with");
  keys_flags.AddTo(table_rotate, false);
  auto* table_list =
      keys->add_subcommand("table-list", "List the keys of encrypted tables (ids, never the keys)");
  keys_flags.AddTo(table_list, false);

  // tarn login / whoami
  RemoteFlags login_flags;
  std::string login_user;
  bool login_stdin = false;
  auto* login =
      app.add_subcommand("login", "Log in to a server and cache the token (~/.config/tarn, mode 0600)");
  login_flags.AddTo(login, true);
  login->add_option("--user,-u", login_user, "User name")->required();
  login->add_flag("--password-stdin", login_stdin, "Read the password from stdin (default: prompt)");
  bool profiles_json = false;
  auto* profiles = app.add_subcommand("profiles", "List the cached logins: profile, server, user, expiry");
  profiles->add_flag("--json", profiles_json, "One JSON object per login");
  RemoteFlags whoami_flags;
  auto* whoami = app.add_subcommand("whoami", "Show who the server thinks you are");
  whoami_flags.AddTo(whoami, true);

  // tarn app / tarn job
  JobCommands job_commands(app);
  NodeCommands node_commands(app);
  WorkerCommand worker_command(app);

  // tarn recon
  InstanceFlags recon_flags;
  ReconCommands recon_commands(
      app, [&recon_flags](CLI::App* c) { recon_flags.AddTo(c, true); },
      [&recon_flags] { return recon_flags.Options(); });

  // tarn validate
  InstanceFlags validate_flags;
  ValidateCommand validate_command(
      app, [&validate_flags](CLI::App* c) { validate_flags.AddTo(c, true); },
      [&validate_flags] { return validate_flags.Options(); });

  // tarn upload
  InstanceFlags upload_flags;
  UploadCommand upload_command(
      app, [&upload_flags](CLI::App* c) { upload_flags.AddTo(c, true); },
      [&upload_flags] { return upload_flags.Options(); });

  // tarn queries
  RemoteFlags queries_remote;
  bool queries_json = false;
  std::string query_id;
  auto* queriesc =
      app.add_subcommand("queries", "List or cancel running queries on a server (yours; admins: all)");
  queriesc->require_subcommand(1);
  auto* queries_list =
      queriesc->add_subcommand("list", "Running queries: id, user, state, seconds, front end, SQL");
  queries_remote.AddTo(queries_list, true);
  queries_list->add_flag("--json", queries_json, "One JSON object per query");
  auto* queries_cancel = queriesc->add_subcommand("cancel", "Cancel a running query by its id");
  queries_remote.AddTo(queries_cancel, true);
  queries_cancel->add_option("id", query_id, "The query id (tarn queries list shows them)")->required();

  // tarn user / group: on a data directory, or on a server with --server
  InstanceFlags admin_flags;
  RemoteFlags admin_remote;
  std::string name, group_name;
  std::vector<std::string> user_groups;
  bool password_stdin = false, service_user = false;
  auto* user = app.add_subcommand("user", "Manage users of the built-in identity provider");
  user->require_subcommand(1);
  auto add_admin_flags = [&](CLI::App* c) {
    admin_flags.AddTo(c, false);
    admin_remote.AddTo(c, false);
  };
  auto* user_add =
      user->add_subcommand("add", "Add a user (a person, or with --service a service principal)");
  user_add->add_option("name", name, "User name")->required();
  user_add->add_option("--group,-g", user_groups, "Group to join (repeatable; the group must exist)");
  user_add->add_flag("--password-stdin", password_stdin, "Read the password from stdin (default: prompt)");
  user_add->add_flag("--service", service_user, "A service principal (logs in with client credentials)");
  auto* user_remove = user->add_subcommand("remove", "Remove a user");
  user_remove->add_option("name", name, "User name")->required();
  auto* user_passwd = user->add_subcommand("passwd", "Set a user's password");
  user_passwd->add_option("name", name, "User name")->required();
  user_passwd->add_flag("--password-stdin", password_stdin, "Read the password from stdin (default: prompt)");
  auto* user_list = user->add_subcommand("list", "List users with their groups");
  for (auto* c : {user_add, user_remove, user_passwd, user_list}) add_admin_flags(c);
  auto* group = app.add_subcommand("group", "Manage groups of the built-in identity provider");
  group->require_subcommand(1);
  auto* group_add = group->add_subcommand("add", "Add a group");
  group_add->add_option("name", group_name, "Group name")->required();
  auto* group_remove = group->add_subcommand("remove", "Remove a group (and its memberships)");
  group_remove->add_option("name", group_name, "Group name")->required();
  auto* group_list = group->add_subcommand("list", "List groups");
  auto* members = group->add_subcommand("members", "Add or remove members");
  members->require_subcommand(1);
  auto* member_add = members->add_subcommand("add", "Add a user to a group");
  auto* member_remove = members->add_subcommand("remove", "Remove a user from a group");
  for (auto* c : {member_add, member_remove}) {
    c->add_option("group", group_name, "Group name")->required();
    c->add_option("user", name, "User name")->required();
  }
  for (auto* c : {group_add, group_remove, group_list, member_add, member_remove}) add_admin_flags(c);

  // tarn sql
  InstanceFlags sql_flags;
  std::string sql, sql_file;
  SqlOutput sql_out;
  auto* sqlc = app.add_subcommand("sql", "Run SQL statements over the lake's catalog tables");
  sqlc->footer(
      "SQL: DuckDB queries over tables named database.table, plus\n"
      "  CREATE DATABASE [IF NOT EXISTS] db            DROP DATABASE [IF EXISTS] db [CASCADE]\n"
      "  CREATE EXTERNAL TABLE db.t LOCATION 'path/in/lake' [FORMAT parquet|csv|json] [PARTITIONED BY (col, "
      "...)]\n"
      "  CREATE TABLE db.t (col TYPE, ...)              CREATE TABLE db.t AS SELECT ...\n"
      "  INSERT INTO db.t SELECT ...                    INSERT OVERWRITE db.t SELECT ...\n"
      "  DROP TABLE [IF EXISTS] db.t                    SHOW DATABASES | SHOW TABLES [IN db]\n"
      "  DESCRIBE db.t                                  SHOW SNAPSHOTS db.t\n"
      "Statements are separated by ';'. SQL comes from the argument, --file, or standard input.\n"
      "Example: tarn sql \"SELECT region, count(*) FROM sales.orders GROUP BY ALL\"");
  sql_flags.AddTo(sqlc, true);
  sqlc->add_option("sql", sql, "SQL text (one or more statements)");
  sqlc->add_option("--file,-f", sql_file, "Read SQL from this file");
  sqlc->add_option("--format", sql_out.format,
                   "Output: table, csv, json (JSON lines) or parquet (needs --output)")
      ->check(CLI::IsMember({"table", "csv", "json", "parquet"}));
  sqlc->add_option("--output,-o", sql_out.output, "File for --format parquet");
  auto* max_rows_opt = sqlc->add_option(
      "--max-rows", sql_out.max_rows,
      "Table: rows shown (default 1000). csv/json: stop after this many rows, warn, and exit 6");
  sqlc->add_flag("--quiet,-q", sql_out.quiet, "Do not print statement status lines on stderr");
  LocalCaller sql_caller;
  sqlc->add_option("--as", sql_caller.as_user,
                   "Local mode: run as this user of the data directory (default: the administrator admin)");
  sqlc->add_option("--role", sql_caller.role, "Run with only this role's grants (a role you hold)");
  RemoteFlags sql_remote;
  sql_remote.AddTo(sqlc, false);

  // tarn demo-data
  InstanceFlags demo_flags;
  DemoDataOptions demo;
  auto* democ = app.add_subcommand("demo-data",
                                   "Create the demo lake (sales and finance data), initialising if needed");
  demo_flags.AddTo(democ, true);
  democ->add_option("--rows", demo.rows,
                    "Rows in sales.orders (ledger: rows/2, customers: rows/20); default 100000");
  democ->add_flag("--replace", demo.replace, "Drop and rebuild the demo databases if they exist");

  // tarn audit verify
  InstanceFlags audit_flags;
  bool audit_json = false;
  auto* auditc = app.add_subcommand("audit", "Check the audit trail");
  auditc->require_subcommand(1);
  auto* audit_verify = auditc->add_subcommand(
      "verify",
      "Recompute the audit trail's hash chain; exit 9 and name the first broken link if it is broken");
  audit_flags.AddTo(audit_verify, false);
  audit_verify->add_flag("--json", audit_json, "Print the result as one JSON object");

  // tarn gc
  InstanceFlags gc_flags;
  int64_t older_than = 3600;
  auto* gc =
      app.add_subcommand("gc", "Delete data files no table snapshot refers to (left by failed writes)");
  gc_flags.AddTo(gc, false);
  gc->add_option("--older-than", older_than, "Only files older than this many seconds (default 3600)")
      ->check(CLI::NonNegativeNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A usage error: one line saying what is wrong and where help is, exit 2.
    std::string where = "tarn";
    for (auto* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front(); sub;
         sub = sub->get_subcommands().empty() ? nullptr : sub->get_subcommands().front()) {
      where += " " + sub->get_name();
    }
    std::string msg = e.what();
    if (msg.empty()) msg = "usage error";
    std::cerr << "error: " << FirstLine(msg) << "; see " << where << " --help\n";
    return 2;
  }

  try {
    if (auto rc = job_commands.Run()) return *rc;
    if (auto rc = node_commands.Run()) return *rc;
    if (auto rc = worker_command.Run()) return *rc;
    if (auto rc = recon_commands.Run()) return *rc;
    if (auto rc = validate_command.Run()) return *rc;
    if (auto rc = upload_command.Run()) return *rc;
    if (*version) {
      std::cout << "tarn " << kVersion << " (DuckDB " << duckdb::DuckDB::LibraryVersion() << ")\n";
      return 0;
    }
    if (*functions) {
      std::cout << (functions_json ? governance::FunctionsJson() + "\n" : governance::FunctionsMarkdown());
      return 0;
    }
    if (*init) {
      std::string given = admin_password_stdin ? ReadPassword(true, "") : "";
      auto dir = init_flags.Options().data_dir;
      if (fs::exists(dir / "metadata.sqlite") || fs::exists(dir / "config.json")) {
        throw Error::AlreadyExists("{} is already a Tarn data directory: nothing was changed", dir.string());
      }
      WarnOpen(session::Instance::Init(init_flags.Options()), init_flags.data_dir);
      std::string pw = EnsureAdmin(init_flags.Options(), given);
      std::cerr << "initialised data directory " << init_flags.data_dir << "\n";
      if (!pw.empty() && given.empty()) {
        std::cout << "created the administrator 'admin' with password: " << pw
                  << "\n(shown once; change it with `tarn user passwd admin`)\n";
      } else if (!pw.empty()) {
        std::cerr << "created the administrator 'admin'\n";
      }
      return 0;
    }
    if (*serverc) {
      server::ServerConfig config =
          config_file.empty() ? server::ServerConfig{} : server::LoadConfig(config_file);
      if (!listen.empty()) server::SetListen(config, listen);
      std::mutex mu;
      std::condition_variable cv;
      bool stop = false;
      // Before any thread starts (see RunSql): SIGTERM and Ctrl-C reach the guard.
      InterruptGuard guard(
          [&] {
            std::lock_guard<std::mutex> lock(mu);
            stop = true;
            cv.notify_all();
          },
          "\nshutting down: finishing requests in flight (Ctrl-C again to quit at once)\n");
      session::Instance instance(server_flags.Options());
      server::Service service(instance, config);
      service.Start();
      std::cerr << "tarn server listening on " << (config.tls() ? "https" : "http") << "://" << config.host
                << ":" << service.port() << " (issuer " << service.issuer() << ", data "
                << server_flags.data_dir << ")\n";
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop; });
      }
      service.Shutdown();
      std::cerr << "tarn server stopped\n";
      return 0;
    }
    if (*rotate) {
      session::Instance instance(keys_flags.Options());
      identity::KeyManager manager(instance.options().data_dir / "keys");
      std::string old = manager.Current().kid();
      manager.Rotate(std::chrono::seconds(keep_for),
                     rotate_alg == "ES256" ? identity::JwtAlgorithm::kES256 : identity::JwtAlgorithm::kRS256);
      std::cerr << "rotated signing key " << old << " -> " << manager.Current().kid() << " (" << rotate_alg
                << "); the old key stays valid for " << keep_for
                << " s; a running server picks this up within 1 s\n";
      return 0;
    }
    if (*table_rotate) {
      session::Instance instance(keys_flags.Options());
      std::cerr << "new table key " << instance.keyring().Rotate()
                << ": new files of encrypted tables use it; older files keep theirs\n";
      return 0;
    }
    if (*table_list) {
      session::Instance instance(keys_flags.Options());
      std::cout << "id,created_at,source,current\n";
      for (auto& k : instance.keyring().List()) {
        std::cout << k.id << "," << k.created_at << "," << k.source << "," << (k.current ? "true" : "false")
                  << "\n";
      }
      return 0;
    }
    if (*login) {
      std::string pw = ReadPassword(login_stdin, "password: ");
      auto remote = login_flags.Options();
      Login(remote, login_user, pw);
      std::cerr << "logged in to " << remote.server << " as " << login_user
                << (remote.profile.empty() ? "" : " (profile " + remote.profile + ")") << "\n";
      return 0;
    }
    if (*profiles) {
      PrintLogins(profiles_json);
      return 0;
    }
    if (*whoami) {
      auto me = CallApi(whoami_flags.Options(), "GET", "/v1/whoami");
      std::cout << me.dump(2) << "\n";
      return 0;
    }
    if (*user || *group) {
      std::unique_ptr<Admin> admin =
          !admin_remote.remote() ? LocalAdmin(admin_flags.Options()) : RemoteAdmin(admin_remote.Options());
      if (*user_add) {
        admin->AddUser(name, ReadPassword(password_stdin, "password: "),
                       service_user ? identity::UserKind::kService : identity::UserKind::kPerson,
                       user_groups);
        std::cerr << "added " << (service_user ? "service principal " : "user ") << name << "\n";
      } else if (*user_remove) {
        admin->RemoveUser(name);
        std::cerr << "removed user " << name << "\n";
      } else if (*user_passwd) {
        admin->SetPassword(name, ReadPassword(password_stdin, "new password: "));
        std::cerr << "password of " << name << " changed\n";
      } else if (*user_list) {
        for (auto& u : admin->ListUsers()) {
          std::string groups;
          for (auto& g : u.groups) groups += (groups.empty() ? "" : ",") + g;
          std::cout << u.name << "\t" << (u.kind == identity::UserKind::kService ? "service" : "person")
                    << "\t" << (u.admin ? "admin" : "-") << "\t" << (groups.empty() ? "-" : groups) << "\n";
        }
      } else if (*group_add) {
        admin->AddGroup(group_name);
        std::cerr << "added group " << group_name << "\n";
      } else if (*group_remove) {
        admin->RemoveGroup(group_name);
        std::cerr << "removed group " << group_name << "\n";
      } else if (*group_list) {
        for (auto& g : admin->ListGroups()) std::cout << g << "\n";
      } else if (*member_add) {
        admin->AddMember(group_name, name);
        std::cerr << "added " << name << " to " << group_name << "\n";
      } else if (*member_remove) {
        admin->RemoveMember(group_name, name);
        std::cerr << "removed " << name << " from " << group_name << "\n";
      }
      return 0;
    }
    if (*queries_list) {
      ListQueries(queries_remote.Options(), queries_json);
      return 0;
    }
    if (*queries_cancel) {
      CancelQuery(queries_remote.Options(), query_id);
      return 0;
    }
    if (*sqlc) {
      sql_out.max_rows_given = max_rows_opt->count() > 0;
      if (sql_out.format == "parquet" && sql_out.output.empty())
        throw Error::InvalidArgument("--format parquet needs --output FILE");
      if (sql_out.format != "parquet" && !sql_out.output.empty())
        throw Error::InvalidArgument("--output is for --format parquet; redirect other formats");
      auto remote_sql = [&] {
        auto r = sql_remote.Options();
        r.role = sql_caller.role;
        return r;
      };
      if (sql_remote.remote() && !sql_caller.as_user.empty()) {
        throw Error::InvalidArgument("--as is for local mode: over a server, log in as that user instead");
      }
      if (WantsShell(sql, sql_file)) {
        if (sql_out.format == "parquet")
          throw Error::InvalidArgument("the shell prints rows: use --format table, csv or json");
        return !sql_remote.remote() ? RunLocalShell(sql_flags.Options(), sql_out, sql_caller)
                                    : RunRemoteShell(remote_sql(), sql_out);
      }
      std::string text = ReadSqlInput(sql, sql_file);
      if (!sql_remote.remote()) return RunLocalSql(sql_flags.Options(), text, sql_out, sql_caller);
      // Ctrl-C cancels the statement on the server: the request carries our id for it.
      auto remote = remote_sql();
      std::string id = "cli-" + RandomHex(8);
      InterruptGuard guard([&] { CancelRemote(remote, id); });
      return RemoteSql(remote, text, sql_out, id);
    }
    if (*audit_verify) {
      auto dir = audit_flags.Options().data_dir / "audit";
      if (!fs::is_directory(audit_flags.Options().data_dir)) {
        throw Error::NotFound("data directory {} does not exist", audit_flags.Options().data_dir.string());
      }
      auto result = audit::Verify(dir);
      if (audit_json) {
        std::cout << nlohmann::json{{"ok", result.ok},
                                    {"events", result.events},
                                    {"segments", result.segments},
                                    {"problem", result.problem}}
                         .dump()
                  << "\n";
      } else if (result.ok) {
        std::cout << "audit trail intact: " << result.events << " events in " << result.segments
                  << " segment(s)\n";
      } else {
        std::cout << "audit trail BROKEN: " << result.problem << " (" << result.events
                  << " events checked out before it)\n";
      }
      return result.ok ? 0 : 9;
    }
    if (*democ) {
      session::Instance::Init(demo_flags.Options());
      session::Instance instance(demo_flags.Options());
      auto sizes = DemoSizes::For(demo.rows);
      Progress bar("demo-data", sizes.Total());
      CreateDemoData(instance, demo, [&](uint64_t done, const std::string& step) { bar.Update(done, step); });
      bar.Finish();
      std::cerr << fmt::format(
          "demo lake ready in {}: sales.orders ({} rows), sales.customers ({}), sales.products ({}), "
          "finance.ledger ({}), finance.bank_statements, finance.expected_breaks\n",
          demo_flags.data_dir, sizes.orders, sizes.customers, sizes.products, sizes.ledger);
      return 0;
    }
    if (*gc) {
      session::Instance instance(gc_flags.Options());
      auto removed = instance.CollectGarbage(std::chrono::seconds(older_than));
      for (auto& f : removed) std::cout << f << "\n";
      std::cerr << "removed " << removed.size() << " orphan file(s)\n";
      return 0;
    }
  } catch (const Error& e) {
    std::cerr << "error: " << FirstLine(e.what()) << "\n";
    return ExitCodeFor(e.code());
  } catch (const std::exception& e) {
    std::cerr << "error: internal: " << FirstLine(e.what()) << "\n";
    return ExitCodeFor(ErrorCode::kInternal);
  }
  return 0;
}

}  // namespace tarn::cli
