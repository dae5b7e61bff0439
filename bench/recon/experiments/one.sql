CREATE TEMP TABLE by_acct AS SELECT acct_norm, period, count(*) n, sum(amount_usd) total_usd, sum(abs_diff_usd) breaks_usd,
   count(*) FILTER (WHERE status <> 'MATCHED') AS n_breaks, avg(day_lag) avg_lag, max(abs_diff) max_diff, min(posted) first_posted FROM matched GROUP BY ALL;
