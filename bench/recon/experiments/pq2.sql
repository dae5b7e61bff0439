COPY (SELECT status, abs_diff_usd, acct_norm, period, amount_usd, day_lag, abs_diff, posted, currency, size_band, qtr, amount, cp_prefix, account, net FROM matched) TO 'OUT/n.parquet' (FORMAT parquet);
CREATE TEMP TABLE by_acct AS SELECT acct_norm, period, count(*) n, sum(amount_usd) total_usd, sum(abs_diff_usd) breaks_usd,
   count(*) FILTER (WHERE status <> 'MATCHED') AS n_breaks, avg(day_lag) avg_lag, max(abs_diff) max_diff, min(posted) first_posted FROM 'OUT/n.parquet' GROUP BY ALL;
CREATE TEMP TABLE cp AS SELECT cp_prefix, approx_count_distinct(account) accts, sum(net) net FROM 'OUT/n.parquet' GROUP BY ALL;
