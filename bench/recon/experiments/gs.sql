CREATE TEMP TABLE fused AS SELECT GROUPING(status, acct_norm, period, currency, size_band, qtr, cp_prefix) g, status, acct_norm, period, currency, size_band, qtr, cp_prefix,
 count(*) n, sum(abs_diff_usd) s1, sum(amount_usd) s2, count(*) FILTER (WHERE status <> 'MATCHED') nb, avg(day_lag) al, max(abs_diff) md, min(posted) fp,
 approx_count_distinct(account) ac, sum(net) sn, arg_max(amount, posted) am, max(posted) mp
FROM matched GROUP BY GROUPING SETS ((status), (acct_norm, period), (period, currency), (size_band, qtr, status), (cp_prefix), (acct_norm));
SELECT g, count(*) FROM fused GROUP BY g ORDER BY g;
