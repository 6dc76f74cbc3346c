// Prints a Parquet file's key-value metadata and rows as JSON, read by hyparquet (not by VecMigrate's Parquet.Net).
// 64-bit integers come out as strings; floats as JavaScript numbers (doubles holding the float32 values exactly),
// except -0, which JSON.stringify would print as 0: it comes out as the string "-0".
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'

const file = await asyncBufferFromFile(process.argv[2])
const metadata = await parquetMetadataAsync(file)
const rows = await parquetReadObjects({ file })
const keyValue = Object.fromEntries((metadata.key_value_metadata ?? []).map(kv => [kv.key, kv.value]))
process.stdout.write(JSON.stringify({ metadata: keyValue, rowGroups: metadata.row_groups.length, rows },
  (key, value) => typeof value === 'bigint' ? value.toString() : Object.is(value, -0) ? '-0' : value))
