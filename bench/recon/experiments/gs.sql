CREATE TEMP TABLE fx AS SELECT * FROM (VALUES ('USD',1.0),('EUR',1.08),('GBP',1.27),('JPY',0.0067),('CHF',1.12)) v(currency, usd_rate);
CREATE VIEW matched AS
WITH l AS (SELECT * FROM read_parquet('DATA/ledger/ledger.parquet')),
     s AS (SELECT * FROM read_parquet('DATA/statement/statement.parquet')),
     j AS (SELECT l.*, s.value_date, s.amount AS stmt_amount, s.currency AS stmt_currency, s.description FROM l LEFT JOIN s USING (txn_id)),
     d AS (SELECT j.*, fx.usd_rate, amount * fx.usd_rate AS amount_usd, stmt_amount * fx.usd_rate AS stmt_amount_usd,
       amount - coalesce(stmt_amount, 0) AS diff, abs(amount - coalesce(stmt_amount, 0)) AS abs_diff,
       round(abs(amount - coalesce(stmt_amount, 0)) * fx.usd_rate, 2) AS abs_diff_usd,
       date_diff('day', posted, value_date) AS day_lag, year(posted) AS yr, month(posted) AS mo, last_day(posted) AS eom,
       upper(trim(account)) AS acct_norm, left(counterparty, 6) AS cp_prefix, right(ref, 4) AS ref_tail, concat(account, '/', currency) AS acct_ccy,
       CASE WHEN stmt_amount IS NULL THEN 'MISSING' WHEN abs(amount - stmt_amount) > 0.005 THEN 'AMOUNT_BREAK'
            WHEN date_diff('day', posted, value_date) > 1 THEN 'DATE_BREAK' WHEN currency <> stmt_currency THEN 'CCY_BREAK' ELSE 'MATCHED' END AS status,
       CASE WHEN amount >= 50000 THEN 'LARGE' WHEN amount >= 1000 THEN 'MEDIUM' ELSE 'SMALL' END AS size_band,
       round(amount, 0) AS amount_rounded, amount * 0.002 AS fee, amount - amount * 0.002 AS net, coalesce(description, 'n/a') AS descr,
       dayofweek(posted) AS dow, quarter(posted) AS qtr, strftime(posted, '%Y-%m') AS period
       FROM j LEFT JOIN fx USING (currency))
SELECT * FROM d WHERE amount > 0;
CREATE TEMP TABLE fused AS SELECT GROUPING(status, acct_norm, period, currency, size_band, qtr, cp_prefix) g, status, acct_norm, period, currency, size_band, qtr, cp_prefix,
 count(*) n, sum(abs_diff_usd) s1, sum(amount_usd) s2, count(*) FILTER (WHERE status <> 'MATCHED') nb, avg(day_lag) al, max(abs_diff) md, min(posted) fp,
 approx_count_distinct(account) ac, sum(net) sn, arg_max(amount, posted) am, max(posted) mp
FROM matched GROUP BY GROUPING SETS ((status), (acct_norm, period), (period, currency), (size_band, qtr, status), (cp_prefix), (acct_norm));
SELECT g, count(*) FROM fused GROUP BY g ORDER BY g;
