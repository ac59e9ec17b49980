SELECT array_agg(id ORDER BY k) = '{2,1}' FROM data.item
