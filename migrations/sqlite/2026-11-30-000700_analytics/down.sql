DROP TABLE analytics_ratings;
DROP TABLE analytics_votes;
DROP TABLE analytics_loops;
