CREATE TEMP TABLE m AS SELECT status, abs_diff_usd, acct_norm, period, amount_usd, day_lag, abs_diff, posted, currency, size_band, qtr, amount, cp_prefix, account, net FROM matched;
CREATE TEMP TABLE by_status AS SELECT status, count(*) AS n, sum(abs_diff_usd) AS usd FROM m GROUP BY ALL;
CREATE TEMP TABLE by_acct AS SELECT acct_norm, period, count(*) n, sum(amount_usd) total_usd, sum(abs_diff_usd) breaks_usd,
   count(*) FILTER (WHERE status <> 'MATCHED') AS n_breaks, avg(day_lag) avg_lag, max(abs_diff) max_diff, min(posted) first_posted FROM m GROUP BY ALL;
CREATE TEMP TABLE pv AS SELECT period, sum(amount_usd) FILTER (currency='CHF') chf, sum(amount_usd) FILTER (currency='EUR') eur FROM m GROUP BY ALL;
CREATE TEMP TABLE pv2 AS SELECT size_band, qtr, count(*) FILTER (status='MATCHED') a, count(*) FILTER (status='MISSING') b FROM m GROUP BY ALL;
CREATE TEMP TABLE dd AS SELECT acct_norm, max(posted), arg_max(amount, posted) FROM m GROUP BY ALL;
CREATE TEMP TABLE cp AS SELECT cp_prefix, approx_count_distinct(account) accts, sum(net) net FROM m GROUP BY ALL;
SELECT database_size, memory_usage FROM pragma_database_size();
