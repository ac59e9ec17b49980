CREATE TABLE comment_actions (person_id int, comment_id int, liked timestamptz, vote_is_upvote boolean, PRIMARY KEY (person_id, comment_id));
CREATE SCHEMA stats;
CREATE STATISTICS stats.comment_actions_liked_stat ON (liked IS NULL), (vote_is_upvote IS NULL) FROM comment_actions;
ALTER STATISTICS stats.comment_actions_liked_stat SET STATISTICS 200;
