import { PGlite } from '@electric-sql/pglite';
let t=performance.now();
const a = await PGlite.create();
await a.exec('create table x(id int)');
console.log('first', performance.now()-t);
t=performance.now();
const dump = await a.dumpDataDir('none');
console.log('dump', performance.now()-t, dump.size);
for (let i=0;i<3;i++){
t=performance.now();
const b = await PGlite.create({loadDataDir: dump});
await b.query('select 1');
console.log('loaded', performance.now()-t);
t=performance.now();
const c = await PGlite.create();
console.log('fresh', performance.now()-t);
if (a.clone) { t=performance.now(); const d = await a.clone(); console.log('clone', performance.now()-t); }
}
