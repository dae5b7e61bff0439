CREATE TEMP TABLE fused AS WITH m AS MATERIALIZED (SELECT status, abs_diff_usd, acct_norm, period, amount_usd, day_lag, abs_diff, posted, currency, size_band, qtr, amount, cp_prefix, account, net FROM matched)
SELECT 1 AS tag, status, count(*) n, sum(abs_diff_usd) AS usd FROM m GROUP BY status
UNION ALL BY NAME SELECT 2 AS tag, acct_norm, period, count(*) n, sum(amount_usd) total_usd, sum(abs_diff_usd) breaks_usd,
   count(*) FILTER (WHERE status <> 'MATCHED') n_breaks, avg(day_lag) avg_lag, max(abs_diff) max_diff, min(posted) first_posted FROM m GROUP BY acct_norm, period
UNION ALL BY NAME SELECT 3 AS tag, period, sum(amount_usd) FILTER (currency='CHF') chf, sum(amount_usd) FILTER (currency='EUR') eur FROM m GROUP BY ALL
UNION ALL BY NAME SELECT 4 AS tag, size_band, qtr, count(*) FILTER (status='MATCHED') a, count(*) FILTER (status='MISSING') b FROM m GROUP BY ALL
UNION ALL BY NAME SELECT 5 AS tag, acct_norm, max(posted) mp, arg_max(amount, posted) am FROM m GROUP BY ALL
UNION ALL BY NAME SELECT 6 AS tag, cp_prefix, approx_count_distinct(account) accts, sum(net) net FROM m GROUP BY ALL;
SELECT tag, count(*) FROM fused GROUP BY ALL ORDER BY 1;
