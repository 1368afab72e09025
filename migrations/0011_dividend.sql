-- SPDX-License-Identifier: Apache-2.0
-- 0011: the sharing dividend of the whole ledger and of each namespace, maintained,
-- so GET /v1/totals and GET /metrics read it from one row whatever the ledger's size;
-- and each family's daily inference counts, so a family page sets its inference
-- CO2e against its training without reading every member (second part below).
--
-- A descendant (a model with parents) avoided the pre-training of every distinct
-- root it builds on, less its own emissions, never below zero, bound by bound
-- (low: the roots' low pre-training less its own high; high the other way round):
-- the share core/dividend.c computes, at the default counterfactual fraction 1. The
-- ledger's dividend counts each descendant once, a merge of two families included.
--
-- model_ledger gains, for every model: pretraining_co2e_kg* (its own training
-- activities: what it would cost a descendant trained from scratch, when it is a
-- root), dividend_status (0 a root, 1 a descendant whose roots all have known
-- pre-training, 2 one that builds on a root without: left out of the sums and
-- counted) and avoided_co2e_kg* (its share, 0 unless status 1). dividend_stale
-- asks for the share to be computed again from the model's closure, its roots'
-- pre-training and its own emissions: every write that changes one of those sets
-- it, in the same statement, and one trigger recomputes. ledger_totals gains the
-- shares' sums and the count of descendants without known pre-training.
--
-- Each write costs O(ancestors) rows like the rest of the aggregates, but one: a
-- root's training activity written after its descendants recomputes the share of
-- every model of its family (the pre-training each of them avoided changed). The
-- inference counts play no part.
ALTER TABLE model_ledger ADD COLUMN pretraining_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN pretraining_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN pretraining_co2e_kg_high REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN dividend_status INTEGER NOT NULL DEFAULT 0
    CHECK (dividend_status IN (0, 1, 2));
ALTER TABLE model_ledger ADD COLUMN avoided_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN avoided_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN avoided_co2e_kg_high REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN dividend_stale INTEGER NOT NULL DEFAULT 0
    CHECK (dividend_stale IN (0, 1));

ALTER TABLE ledger_totals ADD COLUMN descendants_without_pretraining INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger_totals ADD COLUMN avoided_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE ledger_totals ADD COLUMN avoided_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE ledger_totals ADD COLUMN avoided_co2e_kg_high REAL NOT NULL DEFAULT 0;

-- The one place a share is computed. The roots a model builds on are its strict
-- ancestors without parents (each once: the closure holds one row per ancestor).
-- A model leaving the ledger is not recomputed: its share left the totals before
-- (models_dividend_delete) and its closure rows go with it.
CREATE TRIGGER model_ledger_dividend_share AFTER UPDATE OF dividend_stale ON model_ledger
WHEN NEW.dividend_stale = 1 BEGIN
    UPDATE model_ledger SET dividend_stale = 0,
        (dividend_status, avoided_co2e_kg, avoided_co2e_kg_low, avoided_co2e_kg_high) =
        (SELECT iif(count(*) = 0, 0, iif(min(r.pretraining_co2e_kg_high > 0), 1, 2)),
                iif(count(*) > 0 AND min(r.pretraining_co2e_kg_high > 0),
                    max(0.0, total(r.pretraining_co2e_kg) - NEW.own_co2e_kg), 0.0),
                iif(count(*) > 0 AND min(r.pretraining_co2e_kg_high > 0),
                    max(0.0, total(r.pretraining_co2e_kg_low) - NEW.own_co2e_kg_high), 0.0),
                iif(count(*) > 0 AND min(r.pretraining_co2e_kg_high > 0),
                    max(0.0, total(r.pretraining_co2e_kg_high) - NEW.own_co2e_kg_low), 0.0)
         FROM model_closure c JOIN model_ledger r ON r.model_id = c.ancestor_id
         WHERE c.descendant_id = NEW.model_id AND c.ancestor_id <> NEW.model_id
           AND NOT EXISTS (SELECT 1 FROM model_parents p WHERE p.child_id = c.ancestor_id))
    WHERE model_id = NEW.model_id AND EXISTS (SELECT 1 FROM models WHERE id = NEW.model_id);
END;

-- A share that changed changes its namespace's and the ledger's sums.
CREATE TRIGGER model_ledger_dividend_totals
AFTER UPDATE OF dividend_status, avoided_co2e_kg, avoided_co2e_kg_low, avoided_co2e_kg_high
ON model_ledger
WHEN NEW.dividend_status <> OLD.dividend_status OR NEW.avoided_co2e_kg <> OLD.avoided_co2e_kg
  OR NEW.avoided_co2e_kg_low <> OLD.avoided_co2e_kg_low
  OR NEW.avoided_co2e_kg_high <> OLD.avoided_co2e_kg_high BEGIN
    UPDATE ledger_totals SET
        descendants_without_pretraining = descendants_without_pretraining
            + (NEW.dividend_status = 2) - (OLD.dividend_status = 2),
        avoided_co2e_kg = max(0.0, avoided_co2e_kg + NEW.avoided_co2e_kg - OLD.avoided_co2e_kg),
        avoided_co2e_kg_low = max(0.0, avoided_co2e_kg_low
            + NEW.avoided_co2e_kg_low - OLD.avoided_co2e_kg_low),
        avoided_co2e_kg_high = max(0.0, avoided_co2e_kg_high
            + NEW.avoided_co2e_kg_high - OLD.avoided_co2e_kg_high)
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
END;

-- Its own emissions: what a descendant paid instead.
CREATE TRIGGER model_ledger_dividend_own
AFTER UPDATE OF own_co2e_kg, own_co2e_kg_low, own_co2e_kg_high ON model_ledger
WHEN NEW.own_co2e_kg <> OLD.own_co2e_kg OR NEW.own_co2e_kg_low <> OLD.own_co2e_kg_low
  OR NEW.own_co2e_kg_high <> OLD.own_co2e_kg_high BEGIN
    UPDATE model_ledger SET dividend_stale = 1 WHERE model_id = NEW.model_id;
END;

-- A new ledger row, and every change of a model's ancestors (a new model's closure,
-- a lineage edit's rebuilt closure): whichever of the closure and the ledger row
-- comes last computes the share.
CREATE TRIGGER model_ledger_dividend_insert AFTER INSERT ON model_ledger BEGIN
    UPDATE model_ledger SET dividend_stale = 1 WHERE model_id = NEW.model_id;
END;

CREATE TRIGGER model_closure_dividend_insert AFTER INSERT ON model_closure
WHEN NEW.ancestor_id <> NEW.descendant_id BEGIN
    UPDATE model_ledger SET dividend_stale = 1 WHERE model_id = NEW.descendant_id;
END;

CREATE TRIGGER model_closure_dividend_delete AFTER DELETE ON model_closure
WHEN OLD.ancestor_id <> OLD.descendant_id BEGIN
    UPDATE model_ledger SET dividend_stale = 1 WHERE model_id = OLD.descendant_id;
END;

-- A training activity changes its model's pre-training and, when the model is a
-- root, the share of every model that builds on it.
CREATE TRIGGER activities_dividend_insert AFTER INSERT ON activities
WHEN NEW.kind = 'training' BEGIN
    UPDATE model_ledger SET (pretraining_co2e_kg, pretraining_co2e_kg_low,
                             pretraining_co2e_kg_high) =
        (SELECT total(co2e_kg), total(co2e_kg_low), total(co2e_kg_high) FROM activities
         WHERE model_id = NEW.model_id AND kind = 'training')
    WHERE model_id = NEW.model_id;
    UPDATE model_ledger SET dividend_stale = 1
    WHERE NOT EXISTS (SELECT 1 FROM model_parents WHERE child_id = NEW.model_id)
      AND model_id IN (SELECT descendant_id FROM model_closure
                       WHERE ancestor_id = NEW.model_id AND descendant_id <> NEW.model_id);
END;

CREATE TRIGGER activities_dividend_delete AFTER DELETE ON activities
WHEN OLD.kind = 'training' BEGIN
    UPDATE model_ledger SET (pretraining_co2e_kg, pretraining_co2e_kg_low,
                             pretraining_co2e_kg_high) =
        (SELECT total(co2e_kg), total(co2e_kg_low), total(co2e_kg_high) FROM activities
         WHERE model_id = OLD.model_id AND kind = 'training')
    WHERE model_id = OLD.model_id;
    UPDATE model_ledger SET dividend_stale = 1
    WHERE NOT EXISTS (SELECT 1 FROM model_parents WHERE child_id = OLD.model_id)
      AND model_id IN (SELECT descendant_id FROM model_closure
                       WHERE ancestor_id = OLD.model_id AND descendant_id <> OLD.model_id);
END;

-- A model leaves (a leaf: nothing builds on it): its share leaves the sums while
-- its namespace is still known.
CREATE TRIGGER models_dividend_delete BEFORE DELETE ON models BEGIN
    UPDATE model_ledger SET dividend_status = 0, avoided_co2e_kg = 0, avoided_co2e_kg_low = 0,
        avoided_co2e_kg_high = 0
    WHERE model_id = OLD.id;
END;

-- Back-fill: every model's pre-training, then every share (which the triggers above
-- add to the sums).
UPDATE model_ledger SET (pretraining_co2e_kg, pretraining_co2e_kg_low, pretraining_co2e_kg_high) =
    (SELECT total(co2e_kg), total(co2e_kg_low), total(co2e_kg_high) FROM activities
     WHERE model_id = model_ledger.model_id AND kind = 'training');
UPDATE model_ledger SET dividend_stale = 1;

-- Second part: a family's daily inference counts, for its series
-- (GET /v1/models/{id}/series?scope=family) and the day its inference overtakes
-- its training. A day's CO2e is each member's count times the CO2e of one of its
-- inferences now, as the member's own series and footprint price it, which depends
-- on the member's nearest inference profile and the training energy of its
-- lineage. Those are the same for a member and its parent when the member has a
-- single parent, no profile and no training energy of its own; so every member's
-- counts are filed under its usage_rep_id, the nearest ancestor-or-self that has a
-- profile, training energy, or not exactly one parent, whose one inference costs
-- what the member's does. A family's days are then its rows per representative,
-- each priced once when read: family_inference_daily holds, for every model a, the
-- counts of D(a) (a included) by representative and day.
--
-- The rows hold folded counts: a day's count less its delta pending in
-- inference_pending. An increment writes no row here (the root's row of the day
-- would be every increment's in the family); the fold adds each pending delta to
-- the rows of every ancestor of its model, under the model's representative then,
-- and every read adds the deltas still pending, under their models' representatives
-- now. So the triggers below move folded counts only: a change of a model's
-- ancestors (closure rows) or of its representative (a profile set or removed, its
-- first training energy, a lineage edit: rare writes) moves what was folded, and
-- the pending rest is filed where the fold finds the model then.
ALTER TABLE model_ledger ADD COLUMN usage_rep_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN usage_rep_stale INTEGER NOT NULL DEFAULT 0
    CHECK (usage_rep_stale IN (0, 1));

CREATE TABLE family_inference_daily (
    ancestor_id INTEGER NOT NULL, -- the family D(ancestor_id)
    rep_id      INTEGER NOT NULL, -- the members' usage_rep_id
    day         TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (ancestor_id, rep_id, day)
) STRICT, WITHOUT ROWID;

-- The representative, computed where the triggers need it: the deepest of the
-- model's ancestors (itself included) that prices an inference its own way. Below
-- a merge every ancestor up to it is on one chain, deeper than what is above.
UPDATE model_ledger SET usage_rep_id = coalesce((
    SELECT c.ancestor_id FROM model_closure c JOIN models m ON m.id = c.ancestor_id
    JOIN model_ledger a ON a.model_id = c.ancestor_id
    WHERE c.descendant_id = model_ledger.model_id
      AND (a.training_kwh_high > 0
           OR EXISTS (SELECT 1 FROM inference_profiles p WHERE p.model_id = c.ancestor_id)
           OR (SELECT count(*) FROM model_parents e WHERE e.child_id = c.ancestor_id) <> 1)
    ORDER BY m.depth DESC, c.ancestor_id DESC LIMIT 1), 0);

INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count)
SELECT c.ancestor_id, l.usage_rep_id, d.day, sum(d.count - coalesce((SELECT q.delta FROM inference_pending q
                             WHERE q.model_id = d.model_id AND q.day = d.day), 0))
FROM inference_daily d JOIN model_ledger l ON l.model_id = d.model_id
JOIN model_closure c ON c.descendant_id = d.model_id
GROUP BY c.ancestor_id, l.usage_rep_id, d.day;

CREATE TRIGGER model_ledger_usage_rep AFTER UPDATE OF usage_rep_stale ON model_ledger
WHEN NEW.usage_rep_stale = 1 BEGIN
    UPDATE model_ledger SET usage_rep_stale = 0, usage_rep_id = coalesce((
        SELECT c.ancestor_id FROM model_closure c JOIN models m ON m.id = c.ancestor_id
        JOIN model_ledger a ON a.model_id = c.ancestor_id
        WHERE c.descendant_id = NEW.model_id
          AND (a.training_kwh_high > 0
               OR EXISTS (SELECT 1 FROM inference_profiles p WHERE p.model_id = c.ancestor_id)
               OR (SELECT count(*) FROM model_parents e WHERE e.child_id = c.ancestor_id) <> 1)
        ORDER BY m.depth DESC, c.ancestor_id DESC LIMIT 1), 0)
    WHERE model_id = NEW.model_id AND EXISTS (SELECT 1 FROM models WHERE id = NEW.model_id);
END;

-- A new representative: the model's folded counts move to it in every family they
-- count in.
CREATE TRIGGER model_ledger_usage_rep_move AFTER UPDATE OF usage_rep_id ON model_ledger
WHEN NEW.usage_rep_id <> OLD.usage_rep_id BEGIN
    INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count)
    SELECT c.ancestor_id, r.rep_id, d.day, r.sign * (d.count - coalesce((SELECT q.delta FROM inference_pending q
                             WHERE q.model_id = d.model_id AND q.day = d.day), 0))
    FROM model_closure c JOIN inference_daily d ON d.model_id = c.descendant_id
    JOIN (SELECT OLD.usage_rep_id AS rep_id, -1 AS sign
          UNION ALL SELECT NEW.usage_rep_id, 1) r
    WHERE c.descendant_id = NEW.model_id
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER model_ledger_usage_rep_insert AFTER INSERT ON model_ledger BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1 WHERE model_id = NEW.model_id;
END;

-- Its first training energy, or its last, makes a model price inferences its own
-- way or its parent's: its family's representatives change.
CREATE TRIGGER model_ledger_usage_rep_training AFTER UPDATE OF training_kwh_high ON model_ledger
WHEN (NEW.training_kwh_high > 0) <> (OLD.training_kwh_high > 0) BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM model_closure WHERE ancestor_id = NEW.model_id);
END;

CREATE TRIGGER inference_profiles_usage_rep_insert AFTER INSERT ON inference_profiles BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM model_closure WHERE ancestor_id = NEW.model_id);
END;

CREATE TRIGGER inference_profiles_usage_rep_delete AFTER DELETE ON inference_profiles BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM model_closure WHERE ancestor_id = OLD.model_id);
END;

-- A model gains or loses an ancestor: its folded counts join or leave that family,
-- then its representative is computed again (which moves them in every family).
-- A model leaving the ledger has its counts taken out before (models_usage_delete):
-- the rows its deletion cascades to change nothing more.
CREATE TRIGGER model_closure_usage_insert AFTER INSERT ON model_closure BEGIN
    INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count)
    SELECT NEW.ancestor_id, l.usage_rep_id, d.day, d.count - coalesce((SELECT q.delta FROM inference_pending q
                             WHERE q.model_id = d.model_id AND q.day = d.day), 0)
    FROM inference_daily d JOIN model_ledger l ON l.model_id = d.model_id
    WHERE d.model_id = NEW.descendant_id
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = count + excluded.count;
    UPDATE model_ledger SET usage_rep_stale = 1 WHERE model_id = NEW.descendant_id;
END;

CREATE TRIGGER model_closure_usage_delete AFTER DELETE ON model_closure
WHEN EXISTS (SELECT 1 FROM models WHERE id = OLD.descendant_id) BEGIN
    INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count)
    SELECT OLD.ancestor_id, l.usage_rep_id, d.day, -(d.count - coalesce((SELECT q.delta FROM inference_pending q
                             WHERE q.model_id = d.model_id AND q.day = d.day), 0))
    FROM inference_daily d JOIN model_ledger l ON l.model_id = d.model_id
    WHERE d.model_id = OLD.descendant_id
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = count + excluded.count;
    UPDATE model_ledger SET usage_rep_stale = 1 WHERE model_id = OLD.descendant_id;
END;

-- No trigger on inference_daily: a day's count grows by increments, whose deltas
-- the fold adds here, and by the bulk loader, which adds its days here itself
-- (nothing of its models is pending). A day's row leaves only with its model.
CREATE TRIGGER models_usage_delete BEFORE DELETE ON models BEGIN
    INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count)
    SELECT c.ancestor_id, l.usage_rep_id, d.day, -(d.count - coalesce((SELECT q.delta FROM inference_pending q
                             WHERE q.model_id = d.model_id AND q.day = d.day), 0))
    FROM model_closure c JOIN model_ledger l ON l.model_id = c.descendant_id
    JOIN inference_daily d ON d.model_id = c.descendant_id
    WHERE c.descendant_id = OLD.id
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = count + excluded.count;
    DELETE FROM family_inference_daily WHERE ancestor_id = OLD.id;
END;
