SELECT full_name = 'Ada Lovelace' FROM names
