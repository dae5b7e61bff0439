CREATE TEMP TABLE fused AS SELECT GROUPING(status, period, currency, size_band, qtr, acct_norm, cp_prefix) g, status, period, currency, size_band, qtr, acct_norm, cp_prefix,
 count(*) n, sum(abs_diff_usd) s1, sum(amount_usd) s2, count(*) FILTER (WHERE status <> 'MATCHED') nb, sum(day_lag) sl, count(day_lag) cl, max(abs_diff) md, min(posted) fp,
 approx_count_distinct(account) ac, sum(net) sn, arg_max(amount, posted) am, max(posted) mp
FROM matched GROUP BY GROUPING SETS ((status, period, currency, size_band, qtr), (acct_norm, period), (cp_prefix));
SELECT g, count(*) FROM fused GROUP BY g ORDER BY g;
CREATE TEMP TABLE b AS SELECT * FROM matched WHERE status <> 'MATCHED';
