package campaigns

// The list-partition DDL of Import, for benchmarks that build lists in SQL.
var (
	CreatePartitionSQL = createPartitionSQL
	IndexPartitionSQL  = indexPartitionSQL
	AttachPartitionSQL = attachPartitionSQL
)

// ListIDShift is how far a list's id is shifted to make its leads' ids.
const ListIDShift = listIDShift
