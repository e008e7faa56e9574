//! Decoding a pack's blobs in delta-tree order: each base once, before the objects stored
//! as its deltas, on several threads.
//!
//! Why not gix's own traversal (`cache::delta::Tree::traverse`): it hands its callback the
//! rebuilt object but not the delta that rebuilt it, and the delta scan needs exactly that
//! (which bytes were copied, which inserted). Inflating every delta a second time to get it
//! back cost a third of all inflating on curl's history. Here each entry is inflated once;
//! a delta's instructions are applied to its base and given to the visitor with the result.
//!
//! Only chains whose root is a blob are decoded: commits and trees (half the objects of a
//! history, and large ones: a directory of a thousand files is rebuilt for every commit
//! that touches it) are left alone. An entry whose chain cannot be followed inside this
//! pack (a base in another pack, a damaged header) is not visited: the caller reads such
//! blobs one by one.

use std::sync::{
    atomic::{AtomicBool, Ordering::Relaxed},
    Arc, Mutex,
};

use gix::odb::pack::{
    data::{self, entry::Header},
    index,
};

use super::delta;

/// Why a pack could not be decoded.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A blob stored as a delta: its base's offset in the pack and the delta's instructions.
#[derive(Debug, Clone, Copy)]
pub struct Delta<'a> {
    /// Pack offset of the base object.
    pub base_offset: u64,
    /// The inflated delta: sizes, then copy and insert instructions.
    pub instructions: &'a [u8],
}

/// What the walk hands its visitor for each blob.
pub struct Blob<'a> {
    /// The blob's index entry (id, pack offset).
    pub entry: &'a index::Entry,
    /// Its content.
    pub data: &'a [u8],
    /// How it was stored, when as a delta.
    pub delta: Option<Delta<'a>>,
}

/// The blob chains of a pack: for every entry (sorted by pack offset) its base, and which
/// entries sit on a chain whose root is a blob.
pub struct Forest {
    entries: Vec<index::Entry>,
    base: Vec<Option<usize>>,
    blob: Vec<bool>,
}

impl Forest {
    /// Reads every entry's header (not its data) to learn the chains.
    pub fn new(pack: &data::File, index: &index::File) -> Self {
        let mut entries: Vec<index::Entry> = index.iter().collect();
        entries.sort_unstable_by_key(|e| e.pack_offset);
        let position = |offset: u64| entries.binary_search_by_key(&offset, |e| e.pack_offset).ok();
        let mut base = vec![None; entries.len()];
        let mut root_kind = vec![None; entries.len()];
        for (at, entry) in entries.iter().enumerate() {
            let Ok(header) = pack.entry(entry.pack_offset) else { continue };
            match header.header {
                Header::OfsDelta { base_distance } => {
                    base[at] = position(header.base_pack_offset(base_distance))
                }
                Header::RefDelta { base_id } => {
                    base[at] = index.lookup(base_id).and_then(|i| position(index.pack_offset_at_index(i)))
                }
                kind => root_kind[at] = kind.as_kind(),
            }
        }
        // Each entry's chain root, followed once per entry: `settled` remembers every entry
        // a walk passed through. A cycle (a damaged pack) ends as "unknown".
        let mut settled: Vec<Option<bool>> = vec![None; entries.len()];
        let mut chain = Vec::new();
        for start in 0..entries.len() {
            chain.clear();
            let mut at = start;
            let is_blob = loop {
                if let Some(known) = settled[at] {
                    break known;
                }
                if chain.len() > entries.len() {
                    break false;
                }
                chain.push(at);
                match base[at] {
                    Some(next) => at = next,
                    None => break root_kind[at] == Some(gix::objs::Kind::Blob),
                }
            };
            for &i in &chain {
                settled[i] = Some(is_blob);
            }
        }
        let blob = settled.into_iter().map(|s| s == Some(true)).collect();
        Forest { entries, base, blob }
    }

    /// Every blob of the chains that is stored as a delta, with its base's pack offset.
    pub fn blob_base_offsets(&self) -> impl Iterator<Item = (&index::Entry, u64)> + '_ {
        (0..self.entries.len()).filter(|&at| self.blob[at]).filter_map(move |at| {
            self.base[at].map(|base| (&self.entries[at], self.entries[base].pack_offset))
        })
    }

    /// Decodes every blob of the chains on `threads` threads, handing each to a visitor;
    /// `new_visitor` makes one per thread. Stops early, with an error, when `interrupt` is
    /// set or a visitor fails; an entry that does not inflate or apply fails the walk.
    pub fn walk<V>(
        &self,
        pack: &data::File,
        threads: usize,
        interrupt: &AtomicBool,
        new_visitor: impl Fn() -> V,
    ) -> Result<(), Error>
    where
        V: FnMut(Blob<'_>) -> Result<(), Error> + Send,
    {
        // Children lists in one array: `children[first[i]..first[i + 1]]` are entry i's.
        let n = self.entries.len();
        let mut first = vec![0usize; n + 1];
        for (at, base) in self.base.iter().enumerate() {
            if let (Some(base), true) = (base, self.blob[at]) {
                first[base + 1] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut children = vec![0usize; first[n]];
        let mut filled = first.clone();
        for (at, base) in self.base.iter().enumerate() {
            if let (Some(base), true) = (base, self.blob[at]) {
                children[filled[*base]] = at;
                filled[*base] += 1;
            }
        }
        let roots: Vec<usize> = (0..n).filter(|&at| self.blob[at] && self.base[at].is_none()).collect();

        let threads = threads.max(1);
        let walk = Walk {
            forest: self,
            pack,
            first: &first,
            children: &children,
            interrupt,
            failed: Mutex::new(None),
            visitors: (0..threads)
                .map(|_| Mutex::new(Slot { visit: new_visitor(), inflate: Default::default() }))
                .collect(),
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
        pool.scope(|scope| {
            for root in roots {
                let walk = &walk;
                scope.spawn(move |scope| walk.node(scope, root, None));
            }
        });
        if let Some(err) = walk.failed.into_inner().unwrap_or_else(|poison| poison.into_inner()) {
            return Err(err);
        }
        if interrupt.load(Relaxed) {
            return Err("interrupted".into());
        }
        Ok(())
    }
}

/// A thread's visitor and inflater.
struct Slot<V> {
    visit: V,
    inflate: gix::zlib::Inflate,
}

struct Walk<'a, V> {
    forest: &'a Forest,
    pack: &'a data::File,
    first: &'a [usize],
    children: &'a [usize],
    interrupt: &'a AtomicBool,
    failed: Mutex<Option<Error>>,
    visitors: Vec<Mutex<Slot<V>>>,
}

impl<'a, V> Walk<'a, V>
where
    V: FnMut(Blob<'_>) -> Result<(), Error> + Send,
{
    /// Decodes entry `at` (from `base`'s content when it is a delta), visits it, and queues
    /// its children with its content. Children are spawned, not recursed into: rayon runs
    /// a thread's own tasks newest first (depth first, so few bases are held at once) and
    /// lets the other threads take the oldest (whole subtrees).
    fn node<'s>(&'s self, scope: &rayon::Scope<'s>, at: usize, base: Option<Arc<Vec<u8>>>) {
        if self.interrupt.load(Relaxed) || self.failed.lock().map_or(true, |failed| failed.is_some()) {
            return;
        }
        let index = rayon::current_thread_index().unwrap_or(0).min(self.visitors.len() - 1);
        let decoded = {
            let mut slot = self.visitors[index].lock().unwrap_or_else(|poison| poison.into_inner());
            self.decode_and_visit(&mut slot, at, base.as_deref())
        };
        drop(base);
        match decoded {
            Ok(data) => {
                let kids = &self.children[self.first[at]..self.first[at + 1]];
                if kids.is_empty() {
                    return;
                }
                let data = Arc::new(data);
                for &child in kids {
                    let data = Arc::clone(&data);
                    scope.spawn(move |scope| self.node(scope, child, Some(data)));
                }
            }
            Err(err) => {
                let mut failed = self.failed.lock().unwrap_or_else(|poison| poison.into_inner());
                failed.get_or_insert(err);
            }
        }
    }

    fn decode_and_visit(
        &self,
        slot: &mut Slot<V>,
        at: usize,
        base: Option<&Vec<u8>>,
    ) -> Result<Vec<u8>, Error> {
        let entry = &self.forest.entries[at];
        let header = self.pack.entry(entry.pack_offset)?;
        // zlib inflates at most ~1032 bytes from one: a size beyond what the rest of the
        // pack could hold is a damaged header, refused before it sizes an allocation.
        let compressed = (self.pack.pack_end() as u64).saturating_sub(header.data_offset);
        if header.decompressed_size > compressed.saturating_mul(1032).saturating_add(64) {
            return Err(
                format!("the entry at offset {} declares an impossible size", entry.pack_offset).into()
            );
        }
        let mut inflated = vec![0u8; usize::try_from(header.decompressed_size)?];
        self.pack.decompress_entry(&header, &mut slot.inflate, &mut inflated)?;
        match base {
            None => {
                (slot.visit)(Blob { entry, data: &inflated, delta: None })?;
                Ok(inflated)
            }
            Some(base) => {
                let mut data = Vec::new();
                delta::apply(base, &inflated, &mut data)?;
                let base_offset =
                    self.forest.entries[self.forest.base[at].expect("a delta has a base")].pack_offset;
                let delta = Delta { base_offset, instructions: &inflated };
                (slot.visit)(Blob { entry, data: &data, delta: Some(delta) })?;
                Ok(data)
            }
        }
    }
}
