# demo_lake TARN DATA ROWS: the demo lake in DATA (made once; an existing one and its
# users are kept): sales and finance tables, the users admin, analyst1, engineer1 and
# auditor1, groups analysts, engineers and auditors, and the demo policy. Used by scripts/demo and the
# studio's browser tests. The passwords are demo-only and printed by scripts/demo.
DEMO_ADMIN_PW="admin-demo-pw"
demo_lake() {
  local TARN="$1" DATA="$2" ROWS="$3" ADMIN_PW="$DEMO_ADMIN_PW"
  if [ ! -f "$DATA/metadata.sqlite" ]; then
    printf '%s\n' "$ADMIN_PW" | "$TARN" init --data-dir "$DATA" --admin-password-stdin
  fi
  if "$TARN" sql -q --data-dir "$DATA" "SELECT 1 FROM sales.orders LIMIT 1" >/dev/null 2>&1; then
    echo "[demo] the demo lake already exists in $DATA (to rebuild: $TARN demo-data -d $DATA --replace)" >&2
  else
    "$TARN" demo-data --data-dir "$DATA" --rows "$ROWS"
  fi
  existing_groups="$("$TARN" group list --data-dir "$DATA")"
  for g in analysts engineers auditors; do
    grep -qx "$g" <<<"$existing_groups" || "$TARN" group add "$g" --data-dir "$DATA"
  done
  existing_users="$("$TARN" user list --data-dir "$DATA" | cut -f1)"
  add_user() {  # name group password
    grep -qx "$1" <<<"$existing_users" ||
      printf '%s\n' "$3" | "$TARN" user add "$1" --group "$2" --password-stdin --data-dir "$DATA"
  }
  add_user analyst1 analysts analyst1-demo-pw
  add_user engineer1 engineers engineer1-demo-pw
  add_user auditor1 auditors auditor1-demo-pw

  # Demo policy: analysts read sales without PII columns, EU rows only, emails
  # masked; engineers read and write the finance ledger; auditors read the audit.
  # Applied once.
  if ! "$TARN" sql -q --data-dir "$DATA" --format csv "SHOW DATA FILTERS" | grep -q '^eu_customers,'; then
    "$TARN" sql -q --data-dir "$DATA" <<'SQL'
CREATE DATA FILTER eu_customers ON sales.customers EXCLUDING (last_name, phone) ROW FILTER region = 'EU';
CREATE DATA FILTER eu_orders ON sales.orders ROW FILTER region = 'EU';
GRANT SELECT ON DATA FILTER eu_customers TO GROUP analysts;
GRANT SELECT ON DATA FILTER eu_orders TO GROUP analysts;
GRANT SELECT ON TABLE sales.products TO GROUP analysts;
ALTER TABLE sales.customers ALTER COLUMN email SET MASK regexp_replace(email, '^[^@]+', '***') EXEMPT USER admin;
GRANT SELECT, INSERT, DELETE ON TABLE finance.ledger TO GROUP engineers;
GRANT SELECT ON TABLE finance.bank_statements TO GROUP engineers;
GRANT SELECT ON TABLE finance.expected_breaks TO GROUP engineers;
CREATE TAG sensitivity VALUES ('public', 'internal', 'pii');
ALTER TABLE sales.customers ALTER COLUMN email SET TAG sensitivity = 'pii';
ALTER TABLE finance.ledger SET TAG sensitivity = 'internal';
SQL
  fi
  # Auditors read the audit trail (a step of its own: older demo lakes get it too).
  if ! "$TARN" sql -q --data-dir "$DATA" --format csv "SHOW GRANTS TO GROUP auditors" | grep -q ',AUDIT,'; then
    "$TARN" sql -q --data-dir "$DATA" "GRANT AUDIT TO GROUP auditors"
  fi
}
