#include "store/migrations.h"

namespace tarn::store {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "catalog: databases, tables, snapshots, snapshot files",
       {
           R"(CREATE TABLE databases (
                id {{ID}},
                name TEXT NOT NULL UNIQUE,
                comment TEXT,
                created_at TEXT NOT NULL))",
           R"(CREATE TABLE tables (
                id {{ID}},
                database_id BIGINT NOT NULL REFERENCES databases(id),
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                format TEXT NOT NULL,
                location TEXT NOT NULL,
                partition_columns TEXT NOT NULL,
                schema_json TEXT NOT NULL,
                current_snapshot_id BIGINT,
                created_at TEXT NOT NULL,
                UNIQUE (database_id, name)))",
           R"(CREATE TABLE snapshots (
                id {{ID}},
                table_id BIGINT NOT NULL REFERENCES tables(id),
                parent_id BIGINT,
                operation TEXT NOT NULL,
                row_count BIGINT NOT NULL,
                byte_size BIGINT NOT NULL,
                file_count BIGINT NOT NULL,
                schema_json TEXT NOT NULL,
                stats_json TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           "CREATE INDEX snapshots_by_table ON snapshots (table_id, id)",
           R"(CREATE TABLE snapshot_files (
                snapshot_id BIGINT NOT NULL REFERENCES snapshots(id),
                path TEXT NOT NULL,
                row_count BIGINT NOT NULL,
                byte_size BIGINT NOT NULL,
                PRIMARY KEY (snapshot_id, path)))",
       }},
      {2,
       "identity: users, groups, memberships",
       {
           R"(CREATE TABLE users (
                id {{ID}},
                name TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                kind TEXT NOT NULL,
                is_admin BIGINT NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL))",
           R"(CREATE TABLE groups (
                id {{ID}},
                name TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL))",
           R"(CREATE TABLE group_members (
                group_id BIGINT NOT NULL REFERENCES groups(id),
                user_id BIGINT NOT NULL REFERENCES users(id),
                PRIMARY KEY (group_id, user_id)))",
       }},
      {3,
       "identity: tokens issued before a password change or a user's creation are void",
       {
           "ALTER TABLE users ADD COLUMN valid_after BIGINT NOT NULL DEFAULT 0",
       }},
  };
  return kMigrations;
}

}  // namespace tarn::store
