SELECT count(*), max(currency), max(account), max(amount), min(posted), max(value_date), max(stmt_amount), max(stmt_currency), max(usd_rate) FROM matched;
SELECT count(*), max(account), min(posted) FROM matched;
SELECT count(*), max(acct_norm) FROM matched;
SELECT count(*), max(period) FROM matched;
SELECT count(*), max(status) FROM matched;
SELECT count(*), sum(abs_diff_usd) FROM matched;
