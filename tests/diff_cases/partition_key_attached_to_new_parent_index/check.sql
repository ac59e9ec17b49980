SELECT count(*) = 2 FROM app.readings
