SELECT count(*) FROM (SELECT acct_norm, period, count(*) n FROM matched GROUP BY ALL);
SELECT count(*) FROM (SELECT account, posted, count(*) n FROM matched GROUP BY ALL);
SELECT count(*) FROM (SELECT account, count(*) n FROM matched GROUP BY ALL);
SELECT sum(length(period)) FROM matched;
SELECT sum(length(acct_norm)) FROM matched;
