package campaigns

// The list-partition DDL of Import, for benchmarks that build lists in SQL.
var (
	CreatePartitionSQL = createPartitionSQL
	IndexPartitionSQL  = indexPartitionSQL
	AttachPartitionSQL = attachPartitionSQL
)

// ListIDShift is how far a list's id is shifted to make its leads' ids.
const ListIDShift = listIDShift

// OwnPartitions makes an import keep its own partitions however small the
// list, as a list of sharedListMaxLeads leads or more does.
func OwnPartitions(o ImportOptions) ImportOptions {
	o.sharedBelow = 1
	return o
}

// SharedListMaxLeads is the size from which a list keeps its own partitions.
const SharedListMaxLeads = sharedListMaxLeads
