"""sql.id_chunks: a query's rows a chunk at a time in id order, each chunk read after the last
one's id, so that a caller changing rows between chunks neither skips a row nor reads one
twice (as an offset would)."""

from operator import itemgetter

from farm.land.models import Cooperative
from farm.sql import id_chunks


async def five_cooperatives() -> list[Cooperative]:
    return [await Cooperative.create(name=f"合作社{n}", village="青山村") for n in range(5)]


async def test_rows_that_leave_the_query_between_chunks_skip_none_of_the_others(conn):
    coops = await five_cooperatives()
    seen = []
    async for chunk in id_chunks(Cooperative.filter(village="青山村"), 2):
        seen.append([c.id for c in chunk])
        # what was read no longer matches: an offset would now step over two unread rows
        await Cooperative.filter(id__in=[c.id for c in chunk]).update(village="已读")
    ids = [c.id for c in coops]
    assert seen == [ids[0:2], ids[2:4], ids[4:5]]


async def test_chunks_read_as_values_follow_the_id_the_caller_names(conn):
    coops = await five_cooperatives()
    chunks = [
        chunk
        async for chunk in id_chunks(
            Cooperative.filter(village="青山村"),
            3,
            lambda q: q.values_list("id", "name"),
            id_of=itemgetter(0),
        )
    ]
    assert chunks == [[(c.id, c.name) for c in coops[0:3]], [(c.id, c.name) for c in coops[3:5]]]
