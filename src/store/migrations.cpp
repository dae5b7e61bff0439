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
      {4,
       "governance: grants, roles, data filters, column masks, tags, policy versions",
       {
           R"(CREATE TABLE grants (
                id {{ID}},
                grantee_kind TEXT NOT NULL,
                grantee TEXT NOT NULL,
                object_kind TEXT NOT NULL,
                object_id BIGINT NOT NULL,
                object_name TEXT NOT NULL,
                tag_values TEXT,
                privilege TEXT NOT NULL,
                columns_json TEXT,
                columns_except BIGINT NOT NULL DEFAULT 0,
                grant_option BIGINT NOT NULL DEFAULT 0,
                granted_by TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           "CREATE INDEX grants_by_object ON grants (object_kind, object_id)",
           R"(CREATE TABLE roles (
                name TEXT PRIMARY KEY,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           R"(CREATE TABLE role_members (
                role TEXT NOT NULL,
                member_kind TEXT NOT NULL,
                member TEXT NOT NULL,
                PRIMARY KEY (role, member_kind, member)))",
           R"(CREATE TABLE data_filters (
                id {{ID}},
                name TEXT NOT NULL UNIQUE,
                table_id BIGINT NOT NULL,
                columns_json TEXT,
                columns_except BIGINT NOT NULL DEFAULT 0,
                row_filter TEXT,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           R"(CREATE TABLE column_masks (
                table_id BIGINT NOT NULL,
                column_name TEXT NOT NULL,
                expression TEXT NOT NULL,
                exempt_json TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (table_id, column_name)))",
           R"(CREATE TABLE tags (
                tag_key TEXT PRIMARY KEY,
                allowed_values TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           R"(CREATE TABLE tag_assignments (
                table_id BIGINT NOT NULL,
                column_name TEXT NOT NULL,
                tag_key TEXT NOT NULL,
                tag_value TEXT NOT NULL,
                PRIMARY KEY (table_id, column_name, tag_key)))",
           R"(CREATE TABLE policy_changes (
                version {{ID}},
                changed_by TEXT NOT NULL,
                statement TEXT NOT NULL,
                changed_at TEXT NOT NULL))",
       }},
      {5,
       "identity: credential times in milliseconds; governance: per-principal resource limits",
       {
           "UPDATE users SET valid_after = valid_after * 1000",
           R"(CREATE TABLE principal_limits (
                grantee_kind TEXT NOT NULL,
                grantee TEXT NOT NULL,
                name TEXT NOT NULL,
                value BIGINT NOT NULL,
                PRIMARY KEY (grantee_kind, grantee, name)))",
       }},
  };
  return kMigrations;
}

}  // namespace tarn::store
