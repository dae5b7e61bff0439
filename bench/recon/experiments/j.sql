SELECT count(*), sum(amount_usd), count(DISTINCT status) FROM matched;
SELECT count(*) FROM matched;
