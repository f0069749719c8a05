-- Rendered by Jinja before it runs.
SELECT event_date, count(*) AS events
FROM analytics.events
WHERE event_date = '{{ ds }}'
GROUP BY event_date;
