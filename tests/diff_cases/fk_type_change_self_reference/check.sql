SELECT count(*) = 1 FROM node WHERE parent IS NOT NULL
