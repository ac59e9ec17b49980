CREATE TABLE comment_actions (person_id int, comment_id int, liked timestamptz, vote_is_upvote boolean, PRIMARY KEY (person_id, comment_id));
