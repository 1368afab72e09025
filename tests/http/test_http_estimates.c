/* SPDX-License-Identifier: Apache-2.0 */
/* POST /v1/estimates, GET /v1/hardware, GET /v1/regions and GET /v1/methodology
 * against the real server: each method with figures checked by hand, the Strubell
 * BERT row, provenance of table and default intensities, every error row, and the
 * listings' filters and pagination. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_TIMEOUT_S 30
#define KG_PER_LB      0.45359237

static struct ct_server *srv;

static void start_server(void)
{
    char why[4096];

    srv = ct_server_new();
    ck_assert_msg(ct_server_start(srv, why, sizeof why), "%s", why);
}

static void stop_servers(void)
{
    ct_cleanup_all();
    srv = NULL;
}

/* POSTs a single-quoted estimate body and insists on 200 JSON. */
static void estimate(const char *single_quoted, struct ct_response *r)
{
    ct_send(srv, "POST", "/v1/estimates", single_quoted, r);
    ck_assert_msg(r->status == 200, "%s answered %ld: %s", single_quoted, r->status,
                  r->status ? r->body : r->error);
    ck_assert_str_eq(r->content_type, "application/json");
    ck_assert_ptr_nonnull(r->json);
}

/* Every figure of an answer is a range with low <= value <= high. */
static void assert_range(const json_t *root, const char *path)
{
    char p[128];
    double low, value, high;

    snprintf(p, sizeof p, "%s/low", path);
    low = ct_number_at(root, p);
    snprintf(p, sizeof p, "%s/value", path);
    value = ct_number_at(root, p);
    snprintf(p, sizeof p, "%s/high", path);
    high = ct_number_at(root, p);
    ck_assert_msg(low <= value && value <= high, "%s: %g <= %g <= %g", path, low, value, high);
}

static bool array_has_string(const json_t *array, const char *s)
{
    for (size_t i = 0; i < json_array_size(array); i++)
        if (json_is_string(json_array_get(array, i)) &&
            strcmp(json_string_value(json_array_get(array, i)), s) == 0)
            return true;
    return false;
}

static void assert_common_answer(const json_t *j)
{
    assert_range(j, "energy_kwh");
    assert_range(j, "co2e_kg");
    assert_range(j, "operational_co2e_kg");
    assert_range(j, "embodied_co2e_kg");
    ck_assert(json_is_array(ct_json_at(j, "parts")));
    ck_assert(json_array_size(ct_json_at(j, "parts")) >= 1);
    ck_assert(json_is_object(ct_json_at(j, "inputs")));
    ck_assert(json_is_array(ct_json_at(j, "defaults_used")));
    assert_range(j, "equivalences/flight_ny_sf");
    assert_range(j, "equivalences/car_lifetime");
    ck_assert(strlen(ct_string_at(j, "methodology_version")) > 0);
}

/* ---- each method ---- */

/* Strubell et al. 2019 Table 3, BERT base on 64 V100s: 12,041.51 W, 79.2 h,
 * PUE 1.58, 0.954 lb/kWh -> 1,507 kWh and 1,438 lbs CO2e. */
static const char *const strubell_bodies[] = {
    "{'method': 'power', 'power_w': 12041.51, 'hours': 79.2, 'pue': 1.58, "
    "'carbon_intensity': {'value': 0.954, 'unit': 'lb/kWh'}}",
    "{'method': 'power', 'devices': [{'hardware': 'V100', 'count': 64, 'power_w': 188.14859375}], "
    "'hours': 79.2, 'pue': 1.58, 'carbon_intensity': {'value': 0.954, 'unit': 'lb/kWh'}}",
};

START_TEST(strubell_bert_row_is_1507_kwh_and_1438_lbs)
{
    struct ct_response r;
    const json_t *j;

    estimate(strubell_bodies[_i], &r);
    j = r.json;
    assert_common_answer(j);
    ck_assert_double_eq(round(ct_number_at(j, "energy_kwh/value")), 1507.0);
    ck_assert_double_eq(round(ct_number_at(j, "co2e_kg/value") / KG_PER_LB), 1438.0);
    ck_assert_double_eq(round(ct_number_at(j, "co2e_kg/value") * 10.0) / 10.0, 652.0);
    ck_assert_double_eq(ct_number_at(j, "energy_kwh/low"), ct_number_at(j, "energy_kwh/high"));
    ck_assert_str_eq(ct_string_at(j, "method"), "power");
    ck_assert_str_eq(ct_string_at(j, "inputs/intensity/source"), "explicit");
    ck_assert_double_eq_tol(ct_number_at(j, "inputs/pue/value"), 1.58, 1e-12);
    ck_assert_uint_eq(json_array_size(ct_json_at(j, "defaults_used")), 0);
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(power_devices_by_hardware_take_the_catalogue_tdp_as_a_draw_band)
{
    struct ct_response r;
    const json_t *j;

    estimate("{'method': 'power', 'devices': [{'hardware': 'V100', 'count': 2}], 'hours': 10, "
             "'pue': 1.5, 'cpu_w': 100, 'dram_w': 20}",
             &r);
    j = r.json;
    assert_common_answer(j);
    /* (2 x 300 + 100 + 20) W x 10 h x 1.5 = 10.8 kWh; the devices' low is 0.69 x TDP */
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/value"), 10.8, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/low"), (2 * 207.0 + 120.0) * 15 / 1000,
                            1e-9);
    ck_assert_uint_eq(json_array_size(ct_json_at(j, "parts")), 3);
    ck_assert_str_eq(ct_string_at(j, "parts/0/input"), "/devices/0");
    ck_assert_str_eq(ct_string_at(j, "inputs/devices/0/hardware/name"), "NVIDIA Tesla V100");
    ck_assert_str_eq(ct_string_at(j, "inputs/devices/0/power_w_from"), "catalogue_tdp");
    ck_assert(array_has_string(ct_json_at(j, "defaults_used"), "device_power_draw"));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(tdp_method_uses_the_catalogue_row_and_names_it)
{
    struct ct_response r;
    const json_t *j;

    estimate("{'method': 'tdp', 'devices': [{'hardware': 'v100', 'count': 64}], 'hours': 79.2, "
             "'pue': 1.58, 'memory_gb': 100, 'location': 'FRA'}",
             &r);
    j = r.json;
    assert_common_answer(j);
    /* (64 x 300 x u + 100 x 0.3725) W x 79.2 h x 1.58, u in [0.69, 1] */
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/value"),
                            (64 * 300.0 + 37.25) * 79.2 * 1.58 / 1000, 1e-6);
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/low"),
                            (64 * 300.0 * 0.69 + 37.25) * 79.2 * 1.58 / 1000, 1e-6);
    ck_assert_double_eq_tol(ct_number_at(j, "inputs/devices/0/hardware/tdp_w"), 300.0, 1e-9);
    ck_assert_str_eq(ct_string_at(j, "inputs/devices/0/hardware/table"),
                     "green-algorithms/TDP_gpu.csv");
    ck_assert_int_eq((int)ct_number_at(j, "inputs/devices/0/hardware/row"), 18);
    ck_assert_str_eq(ct_string_at(j, "inputs/devices/0/hardware/license"), "CC-BY-4.0");
    ck_assert(array_has_string(ct_json_at(j, "defaults_used"), "utilisation"));
    ck_assert(array_has_string(ct_json_at(j, "defaults_used"), "psf"));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(flops_method_from_parameters_and_tokens)
{
    struct ct_response r;
    const json_t *j;

    /* 6 x 1e9 x 1e10 = 6e19 FLOPs / (1e14 x 0.5) = 1.2e6 device-s = 333.3 h;
     * x 300 W x 1.1 = 110 kWh */
    estimate("{'method': 'flops', 'parameters': 1e9, 'tokens': 1e10, 'peak_flops_per_s': 1e14, "
             "'utilisation': 0.5, 'device_power_w': 300, 'pue': 1.1, "
             "'carbon_intensity': {'value': 100, 'unit': 'g/kWh'}}",
             &r);
    j = r.json;
    assert_common_answer(j);
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/value"), 110.0, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(j, "co2e_kg/value"), 11.0, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(j, "device_hours/value"), 1.2e6 / 3600, 1e-9);
    ck_assert_str_eq(ct_string_at(j, "inputs/device_power_w_from"), "given");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(flops_method_takes_peak_and_tdp_from_the_catalogue)
{
    struct ct_response r;
    const json_t *j;

    estimate("{'method': 'flops', 'flops': 1.08e20, 'devices': [{'hardware': "
             "'Tesla V100-SXM2-32GB'}], 'utilisation': 0.5, 'pue': 1}",
             &r);
    j = r.json;
    assert_common_answer(j);
    /* 1.08e20 / (30e12 x 0.5) = 7.2e6 s = 2000 h x 300 W = 600 kWh; low 0.69 x TDP */
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/value"), 600.0, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/low"), 414.0, 1e-9);
    ck_assert_str_eq(ct_string_at(j, "inputs/peak_flops_per_s_from"), "catalogue_fp16");
    ck_assert_str_eq(ct_string_at(j, "inputs/device_power_w_from"), "catalogue_tdp");
    ck_assert(array_has_string(ct_json_at(j, "defaults_used"), "device_power_draw"));
    ck_assert(array_has_string(ct_json_at(j, "defaults_used"), "carbon_intensity"));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(energy_at_fra_names_table_row_and_year)
{
    struct ct_response r;
    const json_t *j;

    estimate("{'method': 'energy', 'energy_kwh': 7571, 'location': 'FRA'}", &r);
    j = r.json;
    assert_common_answer(j);
    ck_assert_double_eq_tol(ct_number_at(j, "co2e_kg/value"), 7571 * 0.056039, 1e-9);
    ck_assert_str_eq(ct_string_at(j, "inputs/intensity/source"), "table");
    ck_assert_str_eq(ct_string_at(j, "inputs/intensity/location"), "FRA");
    ck_assert_str_eq(ct_string_at(j, "inputs/intensity/table"),
                     "codecarbon/global_energy_mix.json");
    ck_assert_int_eq((int)ct_number_at(j, "inputs/intensity/row"), 1346);
    ck_assert_int_eq((int)ct_number_at(j, "inputs/intensity/year"), 2023);
    ck_assert_str_eq(ct_string_at(j, "inputs/intensity/name"), "France");
    ck_assert_str_eq(ct_string_at(j, "inputs/intensity/license"), "MIT");
    ck_assert(!array_has_string(ct_json_at(j, "defaults_used"), "carbon_intensity"));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(a_cloud_region_resolves_from_google_2024)
{
    struct ct_response r;

    estimate("{'method': 'energy', 'energy_kwh': 1000, 'location': 'GCP:europe-west1'}", &r);
    ck_assert_double_eq_tol(ct_number_at(r.json, "co2e_kg/value"), 103.37, 1e-9);
    ck_assert_str_eq(ct_string_at(r.json, "inputs/intensity/table"),
                     "google-cloud-region-carbon/2024.csv");
    ck_assert_int_eq((int)ct_number_at(r.json, "inputs/intensity/year"), 2024);
    ct_response_cleanup(&r);
}
END_TEST

/* Every spelling of Germany answers the energy mix's DEU row, and the answer says
 * what was asked and how it was matched. */
static const struct {
    const char *location;
    const char *code;
    const char *by; /* NULL: the code itself, no "matched" member */
} places[] = {
    {"DE", "DEU", "iso-alpha2"},
    {"DEU", "DEU", NULL},
    {"276", "DEU", "iso-numeric"},
    {"germany", "DEU", "country-name"},
    {"us-east-1", "aws:us-east-1", "cloud-region"},
    {"europe-west4", "gcp:europe-west4", "cloud-region"},
};

START_TEST(every_spelling_of_a_place_answers_one_row_and_says_how)
{
    struct ct_response r;
    char body[160];

    snprintf(body, sizeof body, "{'method': 'energy', 'energy_kwh': 1000, 'location': '%s'}",
             places[_i].location);
    estimate(body, &r);
    ck_assert_str_eq(ct_string_at(r.json, "inputs/intensity/location"), places[_i].code);
    if (strcmp(places[_i].code, "DEU") == 0) {
        ck_assert_double_eq_tol(ct_number_at(r.json, "co2e_kg/value"), 380.95, 1e-9);
        ck_assert_str_eq(ct_string_at(r.json, "inputs/intensity/table"),
                         "codecarbon/global_energy_mix.json");
        ck_assert_int_eq((int)ct_number_at(r.json, "inputs/intensity/year"), 2023);
    }
    if (places[_i].by == NULL) {
        ck_assert_ptr_null(ct_json_at(r.json, "inputs/intensity/matched"));
    } else {
        ck_assert_str_eq(ct_string_at(r.json, "inputs/intensity/matched/text"),
                         places[_i].location);
        ck_assert_str_eq(ct_string_at(r.json, "inputs/intensity/matched/by"), places[_i].by);
    }
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(without_intensity_the_world_default_is_used_and_flagged)
{
    struct ct_response r;
    const json_t *j;

    estimate("{'method': 'energy', 'energy_kwh': 100}", &r);
    j = r.json;
    ck_assert_double_eq_tol(ct_number_at(j, "co2e_kg/value"), 47.5, 1e-9);
    ck_assert_str_eq(ct_string_at(j, "inputs/intensity/source"), "default");
    ck_assert_double_eq_tol(ct_number_at(j, "inputs/intensity/kg_per_kwh/value"), 0.475, 1e-12);
    ck_assert(array_has_string(ct_json_at(j, "defaults_used"), "carbon_intensity"));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(embodied_method_itemises_each_item)
{
    struct ct_response r;
    const json_t *j;

    /* 8 x 150 kg x 100 h / (43,800 h x 1) and 1 x 2500 kg x 438 h / (43,800 x 0.5) */
    estimate("{'method': 'embodied', 'embodied': [{'units': 8, 'embodied_kg': 150, 'hours': 100, "
             "'lifetime_hours': 43800, 'utilisation': 1}, {'units': 1, 'embodied_kg': 2500, "
             "'hours': 438, 'lifetime_hours': 43800, 'utilisation': 0.5}]}",
             &r);
    j = r.json;
    assert_common_answer(j);
    ck_assert_double_eq(ct_number_at(j, "energy_kwh/value"), 0.0);
    ck_assert_double_eq_tol(ct_number_at(j, "embodied_co2e_kg/value"),
                            8 * 150 * 100 / 43800.0 + 50.0, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(j, "co2e_kg/value"),
                            ct_number_at(j, "embodied_co2e_kg/value"), 1e-12);
    ck_assert_uint_eq(json_array_size(ct_json_at(j, "parts")), 2);
    ck_assert_str_eq(ct_string_at(j, "parts/1/kind"), "embodied");
    ck_assert_str_eq(ct_string_at(j, "parts/1/input"), "/embodied/1");
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(range_inputs_give_range_answers)
{
    struct ct_response r;
    const json_t *j;

    estimate("{'method': 'power', 'power_w': {'value': 100, 'low': 80, 'high': 120}, 'hours': 10, "
             "'pue': {'value': 1.2, 'low': 1.1, 'high': 1.5}, 'location': 'FR'}",
             &r);
    j = r.json;
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/low"), 80 * 10 * 1.1 / 1000, 1e-12);
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/value"), 100 * 10 * 1.2 / 1000, 1e-12);
    ck_assert_double_eq_tol(ct_number_at(j, "energy_kwh/high"), 120 * 10 * 1.5 / 1000, 1e-12);
    assert_range(j, "co2e_kg");
    assert_range(j, "equivalences/human_life_year");
    ct_response_cleanup(&r);
}
END_TEST

/* ---- error rows ---- */

START_TEST(every_error_row_answers_its_problem)
{
    static const struct ct_step steps[] = {
        {"an unknown method is 422", "POST", "/v1/estimates", "{'method': 'magic', 'hours': 1}",
         NULL, 422, "invalid-input", "/method"},
        {"a missing method is 422", "POST", "/v1/estimates", "{'power_w': 1, 'hours': 1}", NULL,
         422, "invalid-input", "/method"},
        {"unknown hardware is 422 on the device", "POST", "/v1/estimates",
         "{'method': 'tdp', 'hours': 1, 'devices': [{'hardware': 'V10', 'count': 1}]}", NULL, 422,
         "invalid-input", "/devices/0/hardware"},
        {"an unknown region is 422", "POST", "/v1/estimates",
         "{'method': 'energy', 'energy_kwh': 1, 'location': 'FRAN'}", NULL, 422, "invalid-input",
         "/location"},
        {"negative hours are 422", "POST", "/v1/estimates",
         "{'method': 'power', 'power_w': 100, 'hours': -1}", NULL, 422, "invalid-input", "/hours"},
        {"zero power is 422", "POST", "/v1/estimates",
         "{'method': 'power', 'power_w': 0, 'hours': 1}", NULL, 422, "invalid-input", "/power_w"},
        {"NaN as a string is 422", "POST", "/v1/estimates",
         "{'method': 'power', 'power_w': 100, 'hours': 'NaN'}", NULL, 422, "invalid-input",
         "/hours"},
        {"Infinity as a string is 422", "POST", "/v1/estimates",
         "{'method': 'power', 'power_w': 'Infinity', 'hours': 1}", NULL, 422, "invalid-input",
         "/power_w"},
        {"a number in a string is 422", "POST", "/v1/estimates",
         "{'method': 'energy', 'energy_kwh': '12'}", NULL, 422, "invalid-input", "/energy_kwh"},
        {"a zero count is 422", "POST", "/v1/estimates",
         "{'method': 'tdp', 'hours': 1, 'devices': [{'hardware': 'V100', 'count': 0}]}", NULL, 422,
         "invalid-input", "/devices/0/count"},
        {"a missing count is 422", "POST", "/v1/estimates",
         "{'method': 'tdp', 'hours': 1, 'devices': [{'hardware': 'V100'}]}", NULL, 422,
         "invalid-input", "/devices/0/count"},
        {"an unknown field is 422", "POST", "/v1/estimates",
         "{'method': 'energy', 'energy_kwh': 1, 'colour': 'green'}", NULL, 422, "invalid-input",
         "/colour"},
        {"a field of another method is 422", "POST", "/v1/estimates",
         "{'method': 'power', 'power_w': 1, 'hours': 1, 'energy_kwh': 1}", NULL, 422,
         "invalid-input", "/energy_kwh"},
        {"an unknown device field is 422", "POST", "/v1/estimates",
         "{'method': 'tdp', 'hours': 1, 'devices': [{'hardware': 'V100', 'count': 1, 'x': 1}]}",
         NULL, 422, "invalid-input", "/devices/0/x"},
        {"an unordered range is 422", "POST", "/v1/estimates",
         "{'method': 'energy', 'energy_kwh': {'value': 5, 'low': 6}}", NULL, 422, "invalid-input",
         "/energy_kwh"},
        {"an absurd PUE is 422", "POST", "/v1/estimates",
         "{'method': 'power', 'power_w': 100, 'hours': 1, 'pue': 10}", NULL, 422, "invalid-input",
         "/pue"},
        {"an absurd intensity is 422", "POST", "/v1/estimates",
         "{'method': 'energy', 'energy_kwh': 1, 'carbon_intensity': {'value': 5, 'unit': "
         "'kg/kWh'}}",
         NULL, 422, "invalid-input", "/carbon_intensity/value"},
        {"an unknown intensity unit is 422", "POST", "/v1/estimates",
         "{'method': 'energy', 'energy_kwh': 1, 'carbon_intensity': {'value': 5, 'unit': "
         "'g/mile'}}",
         NULL, 422, "invalid-input", "/carbon_intensity/unit"},
        {"location and intensity together are 422", "POST", "/v1/estimates",
         "{'method': 'energy', 'energy_kwh': 1, 'location': 'FRA', 'carbon_intensity': "
         "{'value': 5, 'unit': 'g/kWh'}}",
         NULL, 422, "invalid-input", "/location"},
        {"tdp without devices is 422", "POST", "/v1/estimates", "{'method': 'tdp', 'hours': 1}",
         NULL, 422, "invalid-input", "/devices"},
        {"devices that are not an array are 422", "POST", "/v1/estimates",
         "{'method': 'tdp', 'hours': 1, 'devices': {'hardware': 'V100'}}", NULL, 422,
         "invalid-input", "/devices"},
        {"flops on hardware without a peak is 422", "POST", "/v1/estimates",
         "{'method': 'flops', 'flops': 1e20, 'devices': [{'hardware': 'V100'}]}", NULL, 422,
         "invalid-input", "/peak_flops_per_s"},
        {"flops with two device types is 422", "POST", "/v1/estimates",
         "{'method': 'flops', 'flops': 1e20, 'devices': [{'hardware': 'T4'}, {'hardware': "
         "'L4'}]}",
         NULL, 422, "invalid-input", "/devices"},
        {"flops with only parameters is 422", "POST", "/v1/estimates",
         "{'method': 'flops', 'parameters': 1e9, 'peak_flops_per_s': 1e14, 'device_power_w': "
         "300}",
         NULL, 422, "invalid-input", "/tokens"},
        {"embodied hours beyond the lifetime are 422", "POST", "/v1/estimates",
         "{'method': 'embodied', 'embodied': [{'units': 1, 'embodied_kg': 100, 'hours': 60000}]}",
         NULL, 422, "invalid-input", "/embodied/0/hours"},
        {"a body that is not an object is 422", "POST", "/v1/estimates", "[1, 2]", NULL, 422,
         "invalid-input", NULL},
        {"malformed JSON is 400", "POST", "/v1/estimates", "{'method': ", NULL, 400,
         "malformed-json", NULL},
        {"a query parameter is 400", "POST", "/v1/estimates?debug=1",
         "{'method': 'energy', 'energy_kwh': 1}", NULL, 400, "bad-request", "debug"},
        {"GET is 405", "GET", "/v1/estimates", NULL, NULL, 405, "method-not-allowed", NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

/* n device groups (or embodied items) of one kind as a JSON array text. */
static char *repeated(const char *item, size_t n)
{
    size_t len = 2 + n * (strlen(item) + 1);
    char *s = malloc(len + 1);

    ck_assert_ptr_nonnull(s);
    strcpy(s, "[");
    for (size_t i = 0; i < n; i++) {
        strcat(s, item);
        if (i + 1 < n)
            strcat(s, ",");
    }
    strcat(s, "]");
    return s;
}

START_TEST(more_than_16_devices_or_embodied_items_are_422_and_16_are_fine)
{
    static const struct {
        const char *prefix; /* the body up to the array; "}" closes it */
        const char *item;
        const char *pointer;
    } cases[] = {
        {"{'method': 'tdp', 'hours': 1, 'devices': ", "{'hardware': 'T4', 'count': 1}", "/devices"},
        {"{'method': 'power', 'hours': 1, 'devices': ", "{'power_w': 100, 'count': 1}", "/devices"},
        {"{'method': 'embodied', 'hours': 1, 'embodied': ", "{'units': 1, 'embodied_kg': 10}",
         "/embodied"},
    };

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t n = 16; n <= 17; n++) {
            char *items = repeated(cases[c].item, n);
            char body[4096];
            struct ct_response r;

            snprintf(body, sizeof body, "%s%s}", cases[c].prefix, items);
            free(items);
            ct_send(srv, "POST", "/v1/estimates", body, &r);
            if (n == 16) {
                ck_assert_msg(r.status == 200, "%zu items: %ld %s", n, r.status, r.body);
                ck_assert_uint_eq(json_array_size(ct_json_at(r.json, "parts")), 16);
            } else {
                CT_ASSERT_PROBLEM(&r, 422, "invalid-input", cases[c].pointer);
            }
            ct_response_cleanup(&r);
        }
    }
}
END_TEST

/* The errors[] message at pointer of a 422. */
static void assert_message(const char *single_quoted, const char *pointer, const char *expected)
{
    struct ct_response r;
    const json_t *errors;
    bool found = false;

    ct_send(srv, "POST", "/v1/estimates", single_quoted, &r);
    CT_ASSERT_PROBLEM(&r, 422, "invalid-input", pointer);
    errors = json_object_get(r.json, "errors");
    for (size_t i = 0; i < json_array_size(errors); i++) {
        const char *message =
            json_string_value(json_object_get(json_array_get(errors, i), "message"));
        if (message && strstr(message, expected))
            found = true;
    }
    ck_assert_msg(found, "no message with \"%s\" in %s", expected, r.body);
    ct_response_cleanup(&r);
}

START_TEST(misses_name_the_closest_known_hardware_and_region)
{
    assert_message("{'method': 'tdp', 'hours': 1, 'devices': [{'hardware': 'V10', 'count': 1}]}",
                   "/devices/0/hardware", "did you mean 'NVIDIA Tesla V100'?");
    assert_message("{'method': 'energy', 'energy_kwh': 1, 'location': 'FRAN'}", "/location",
                   "did you mean FRA?");
    assert_message("{'method': 'energy', 'energy_kwh': 1, 'location': 'gcp:europe-wst1'}",
                   "/location", "did you mean gcp:europe-west1?");
    assert_message("{'method': 'energy', 'energy_kwh': 1, 'location': 'zzzzzzzzzzzzzzzzzzzz'}",
                   "/location", "GET /v1/regions");
}
END_TEST

/* ---- reference listings ---- */

/* Follows Link rel="next" from path; returns the number of items seen, checking
 * that ids increase, next_cursor and Link agree, and every item passes check. */
static size_t walk(const char *path, bool (*check)(const json_t *item))
{
    char next[1024];
    size_t total = 0;
    json_int_t last_id = 0;

    snprintf(next, sizeof next, "%s", path);
    for (int page = 0; page < 1000; page++) {
        struct ct_response r;
        const json_t *items, *cursor;
        char *start, *end;

        ck_assert_int_eq(ct_get(srv, next, &r), 200);
        items = json_object_get(r.json, "items");
        cursor = json_object_get(r.json, "next_cursor");
        ck_assert(json_is_array(items));
        for (size_t i = 0; i < json_array_size(items); i++) {
            const json_t *item = json_array_get(items, i);
            json_int_t id = json_integer_value(json_object_get(item, "id"));
            ck_assert_msg(id > last_id, "id %lld after %lld", (long long)id, (long long)last_id);
            last_id = id;
            ck_assert_msg(check == NULL || check(item), "item fails the filter: %s", r.body);
        }
        total += json_array_size(items);
        if (json_is_null(cursor)) {
            ck_assert_str_eq(r.link, "");
            ct_response_cleanup(&r);
            return total;
        }
        ck_assert(json_is_string(cursor));
        start = strchr(r.link, '<');
        end = strchr(r.link, '>');
        ck_assert_msg(start && end && strstr(r.link, "rel=\"next\""), "Link: %s", r.link);
        ck_assert_ptr_nonnull(strstr(r.link, json_string_value(cursor)));
        *end = '\0';
        snprintf(next, sizeof next, "%s", start + 1);
        ct_response_cleanup(&r);
    }
    ck_abort_msg("more than 1000 pages");
    return 0;
}

static bool is_tpu(const json_t *item)
{
    return strcmp(json_string_value(json_object_get(item, "kind")), "tpu") == 0;
}

static bool names_v100(const json_t *item)
{
    return strstr(json_string_value(json_object_get(item, "name")), "V100") != NULL;
}

static bool is_us(const json_t *item)
{
    const char *code = json_string_value(json_object_get(item, "code"));

    return strcmp(code, "US") == 0 || strcmp(code, "USA") == 0 || strncmp(code, "US-", 3) == 0;
}

static bool is_gcp(const json_t *item)
{
    return json_is_string(json_object_get(item, "provider")) &&
           strcmp(json_string_value(json_object_get(item, "provider")), "gcp") == 0 &&
           strncmp(json_string_value(json_object_get(item, "code")), "gcp:", 4) == 0;
}

START_TEST(hardware_pages_and_filters)
{
    struct ct_response r;
    const json_t *first;

    ck_assert_uint_eq(walk("/v1/hardware?limit=7", NULL), 21 + 94 + 46);
    ck_assert_uint_eq(walk("/v1/hardware?kind=tpu&limit=2", is_tpu), 5);
    ck_assert_uint_eq(walk("/v1/hardware?name=v100&limit=2", names_v100), 5);

    ck_assert_int_eq(ct_get(srv, "/v1/hardware?name=TPU%20v3", &r), 200);
    first = json_array_get(json_object_get(r.json, "items"), 0);
    ck_assert_str_eq(ct_string_at(first, "name"), "TPU v3");
    ck_assert_double_eq_tol(ct_number_at(first, "tdp_w"), 220.0, 1e-9);
    ck_assert_str_eq(ct_string_at(first, "table"), "green-algorithms/TDP_gpu.csv");
    ck_assert_str_eq(ct_string_at(first, "license"), "CC-BY-4.0");
    ck_assert(json_is_true(ct_json_at(first, "preferred")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(region_pages_and_filters)
{
    struct ct_response r;
    const json_t *world;

    ck_assert_uint_eq(walk("/v1/regions?limit=100", NULL), 44 + 213 + 131 + 81);
    ck_assert_uint_gt(walk("/v1/regions?country=US&limit=5", is_us), 10);
    /* either code, the numeric code or the name lists the same rows, states included */
    ck_assert_uint_eq(walk("/v1/regions?country=USA&limit=5", is_us),
                      walk("/v1/regions?country=US&limit=5", is_us));
    ck_assert_uint_eq(walk("/v1/regions?country=840&limit=50", is_us),
                      walk("/v1/regions?country=us&limit=50", is_us));
    ck_assert_uint_eq(walk("/v1/regions?provider=gcp&limit=10", is_gcp), 44 + 21);

    ck_assert_int_eq(ct_get(srv, "/v1/regions?kind=world", &r), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 1);
    world = json_array_get(json_object_get(r.json, "items"), 0);
    ck_assert_str_eq(ct_string_at(world, "code"), "WORLD");
    ck_assert_double_eq_tol(ct_number_at(world, "intensity_g_per_kwh"), 475.0, 1e-9);
    ck_assert_double_eq_tol(ct_number_at(world, "intensity_kg_per_kwh"), 0.475, 1e-12);
    ct_response_cleanup(&r);

    /* France under both codes; the energy mix's row is the one lookups answer */
    ck_assert_int_eq(ct_get(srv, "/v1/regions?name=FRA&kind=country&country=FRA", &r), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(r.json, "items")), 2);
    world = json_array_get(json_object_get(r.json, "items"), 0);
    ck_assert_str_eq(ct_string_at(world, "code"), "FRA");
    ck_assert_double_eq_tol(ct_number_at(world, "intensity_g_per_kwh"), 56.039, 1e-9);
    ck_assert_int_eq((int)ct_number_at(world, "year"), 2023);
    ck_assert_int_eq((int)ct_number_at(world, "row"), 1346);
    ck_assert(json_is_true(ct_json_at(world, "preferred")));
    world = json_array_get(json_object_get(r.json, "items"), 1);
    ck_assert_str_eq(ct_string_at(world, "code"), "FR");
    ck_assert(json_is_false(ct_json_at(world, "preferred")));
    ct_response_cleanup(&r);
}
END_TEST

START_TEST(listings_refuse_bad_queries)
{
    static const struct ct_step steps[] = {
        {"an unknown hardware parameter is 400", "GET", "/v1/hardware?vendor=nvidia", NULL, NULL,
         400, "bad-request", "vendor"},
        {"an unknown hardware kind is 400", "GET", "/v1/hardware?kind=fpga", NULL, NULL, 400,
         "bad-request", "kind"},
        {"limit 0 is 400", "GET", "/v1/hardware?limit=0", NULL, NULL, 400, "bad-request", "limit"},
        {"limit 501 is 400", "GET", "/v1/regions?limit=501", NULL, NULL, 400, "bad-request",
         "limit"},
        {"a non-numeric cursor is 400", "GET", "/v1/regions?cursor=abc", NULL, NULL, 400,
         "bad-request", "cursor"},
        {"an unknown region parameter is 400", "GET", "/v1/regions?continent=europe", NULL, NULL,
         400, "bad-request", "continent"},
        {"a malformed country is 400", "GET", "/v1/regions?country=F1", NULL, NULL, 400,
         "bad-request", "country"},
        {"a malformed provider is 400", "GET", "/v1/regions?provider=G%20CP", NULL, NULL, 400,
         "bad-request", "provider"},
        {"an unknown region kind is 400", "GET", "/v1/regions?kind=planet", NULL, NULL, 400,
         "bad-request", "kind"},
        {"a query on methodology is 400", "GET", "/v1/methodology?x=1", NULL, NULL, 400,
         "bad-request", "x"},
        {"limit 500 is fine", "GET", "/v1/regions?limit=500", NULL, NULL, 200, NULL, NULL},
    };

    ct_run_steps(srv, steps, sizeof steps / sizeof steps[0]);
}
END_TEST

START_TEST(methodology_publishes_constants_formulas_sources_and_the_load_report)
{
    struct ct_response r, e;
    const json_t *tables, *j;
    json_int_t skipped = 0;
    bool has_power = false;

    ck_assert_int_eq(ct_get(srv, "/v1/methodology", &r), 200);
    j = r.json;
    estimate("{'method': 'energy', 'energy_kwh': 1}", &e);
    ck_assert_str_eq(ct_string_at(j, "methodology_version"),
                     ct_string_at(e.json, "methodology_version"));
    ct_response_cleanup(&e);
    ck_assert_uint_gt(json_array_size(ct_json_at(j, "constants")), 5);
    ck_assert(strlen(ct_string_at(j, "constants/0/source")) > 0);
    (void)ct_number_at(j, "constants/0/value");
    for (size_t i = 0; i < json_array_size(ct_json_at(j, "formulas")); i++)
        if (strcmp(json_string_value(
                       json_object_get(json_array_get(ct_json_at(j, "formulas"), i), "method")),
                   "power") == 0)
            has_power = true;
    ck_assert(has_power);
    ck_assert_double_eq(ct_number_at(j, "default_intensity/g_per_kwh"), 475.0);
    ck_assert_uint_eq(json_array_size(ct_json_at(j, "equivalences")), 4);
    ck_assert_uint_eq(json_array_size(ct_json_at(j, "sources")), 7);
    ck_assert(strlen(ct_string_at(j, "reference_data/precedence")) > 50);

    tables = ct_json_at(j, "reference_data/tables");
    ck_assert_uint_eq(json_array_size(tables), 7);
    for (size_t i = 0; i < json_array_size(tables); i++) {
        const json_t *t = json_array_get(tables, i);
        json_int_t n_skipped = json_integer_value(json_object_get(t, "rows_skipped"));
        ck_assert_uint_eq(json_array_size(json_object_get(t, "skipped")), (size_t)n_skipped);
        ck_assert_int_gt(json_integer_value(json_object_get(t, "rows_loaded")), 20);
        skipped += n_skipped;
        if (strcmp(ct_string_at(t, "table"), "mlco2-impact/gpus.csv") == 0) {
            ck_assert_int_eq(n_skipped, 2);
            ck_assert_int_eq(json_integer_value(json_object_get(t, "rows_loaded")), 46);
            ck_assert_int_eq((int)ct_number_at(t, "skipped/0/row"), 6);
        }
    }
    ck_assert_int_eq(skipped, 5);
    ct_response_cleanup(&r);
}
END_TEST

static Suite *estimates_suite(void)
{
    Suite *s = suite_create("http_estimates");
    TCase *methods = tcase_create("methods");
    TCase *errors = tcase_create("errors");
    TCase *reference = tcase_create("reference");
    TCase *all[] = {methods, errors, reference};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], start_server, stop_servers);
        tcase_set_timeout(all[i], TEST_TIMEOUT_S);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_loop_test(methods, strubell_bert_row_is_1507_kwh_and_1438_lbs, 0,
                        (int)(sizeof strubell_bodies / sizeof strubell_bodies[0]));
    tcase_add_test(methods, power_devices_by_hardware_take_the_catalogue_tdp_as_a_draw_band);
    tcase_add_test(methods, tdp_method_uses_the_catalogue_row_and_names_it);
    tcase_add_test(methods, flops_method_from_parameters_and_tokens);
    tcase_add_test(methods, flops_method_takes_peak_and_tdp_from_the_catalogue);
    tcase_add_test(methods, energy_at_fra_names_table_row_and_year);
    tcase_add_loop_test(methods, every_spelling_of_a_place_answers_one_row_and_says_how, 0,
                        (int)(sizeof places / sizeof places[0]));
    tcase_add_test(methods, a_cloud_region_resolves_from_google_2024);
    tcase_add_test(methods, without_intensity_the_world_default_is_used_and_flagged);
    tcase_add_test(methods, embodied_method_itemises_each_item);
    tcase_add_test(methods, range_inputs_give_range_answers);

    tcase_add_test(errors, every_error_row_answers_its_problem);
    tcase_add_test(errors, more_than_16_devices_or_embodied_items_are_422_and_16_are_fine);
    tcase_add_test(errors, misses_name_the_closest_known_hardware_and_region);

    tcase_add_test(reference, hardware_pages_and_filters);
    tcase_add_test(reference, region_pages_and_filters);
    tcase_add_test(reference, listings_refuse_bad_queries);
    tcase_add_test(reference, methodology_publishes_constants_formulas_sources_and_the_load_report);
    return s;
}

int main(void)
{
    return ct_main(estimates_suite());
}
